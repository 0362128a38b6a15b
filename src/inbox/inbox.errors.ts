import { HttpStatus } from '@nestjs/common';
import { AppException, badRequest, conflict, forbidden, notFound } from '../common/errors/app.exception';

export const InboxErrors = {
  notInControl: (controller: string | null) =>
    conflict(
      'INBOX.NOT_IN_CONTROL',
      `${controller ? `The bot ${controller}` : 'A bot'} controls this conversation (handover protocol): take it over first`,
    ),
  noHandover: () =>
    conflict('INBOX.NO_HANDOVER', 'This Page has no primary bot (handover protocol): its people may always reply, there is nothing to take'),
  outsideWindow: (days: number) =>
    conflict('INBOX.OUTSIDE_WINDOW', `The person last wrote more than ${days} days ago: a human reply is allowed within ${days} days`),
  assigneeNotAdmin: (id: string) => badRequest('INBOX.ASSIGNEE_NOT_ADMIN', `${id} is not an admin of this page: conversations go to its admins`),
  threadChanged: () => conflict('INBOX.THREAD_CHANGED', 'The person wrote after the message given (last_seq): read it first'),
  personaNotFound: (id: string) => notFound('INBOX.PERSONA_NOT_FOUND', `No persona ${id.slice(0, 20)} on this Page`),
  personaRefused: (message: string) => badRequest('INBOX.PERSONA_INVALID', message),
  noteNotFound: (id: string) => notFound('INBOX.NOTE_NOT_FOUND', `No note ${id.slice(0, 20)} on this conversation`),
  notNoteAuthor: () => forbidden('INBOX.NOT_NOTE_AUTHOR', 'Only the admin who wrote a note deletes it'),
  tooManyNotes: (max: number) => conflict('INBOX.TOO_MANY_NOTES', `A conversation keeps at most ${max} notes: delete one first`),
  tooFast: (headers: Record<string, string> | undefined) =>
    new AppException(HttpStatus.TOO_MANY_REQUESTS, 'INBOX.RATE_LIMITED', "The Page's send limit is reached: try again shortly", undefined, headers),
};
