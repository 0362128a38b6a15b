import { badRequest, conflict, notFound } from '../common/errors/app.exception';

export const ScriptErrors = {
  versionNotFound: (version: string) => notFound('SCRIPT.VERSION_NOT_FOUND', `No script version ${version} for this page`),
  syntax: (message: string, line: number, column: number) =>
    badRequest('SCRIPT.SYNTAX_ERROR', `SyntaxError at line ${line}, column ${column}: ${message}`, [
      { field: 'source', rule: 'syntax', message: `line ${line}, column ${column}: ${message}` },
    ]),
  invalid: (field: string, message: string) =>
    badRequest('SCRIPT.INVALID', message, [{ field, rule: 'invalid', message }]),
  badEvent: (message: string) => badRequest('SCRIPT.INVALID_EVENT', message, [{ field: 'event', rule: 'invalid', message }]),
  notActive: () => conflict('SCRIPT.NOT_ACTIVE', 'No script version is active on this page; activate one'),
  uploadRace: () => conflict('SCRIPT.UPLOAD_CONFLICT', 'Another upload for this page got the same version; try again'),
};
