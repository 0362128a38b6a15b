import { badRequest, conflict, notFound } from '../common/errors/app.exception';

export const ReportsErrors = {
  notFound: (id: string) => notFound('REPORT.NOT_FOUND', `No report ${id.slice(0, 20)}`),
  // Closed by another action: a retry of the one that closed it answers the report as it is.
  closed: (status: string, resolution: string | null) =>
    conflict('REPORT.CLOSED', `This report is already ${status}${resolution ? ` (${resolution})` : ''}`),
  badCursor: () => badRequest('REPORT.BAD_CURSOR', 'cursor: give the next_cursor of a previous page'),
};
