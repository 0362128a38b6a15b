import { useEffect, useRef, useState } from 'preact/hooks';
import type { ReportInput, ReportReason } from '../api';

// The reasons the server takes (src/reports/report-rules.ts), as Messenger's "Report" words them.
export const REPORT_REASONS: { value: ReportReason; label: string }[] = [
  { value: 'spam', label: 'Spam' },
  { value: 'scam', label: 'Scam or fraud' },
  { value: 'harassment', label: 'Harassment' },
  { value: 'inappropriate', label: 'Inappropriate content' },
  { value: 'other', label: 'Something else' },
];
const DETAILS_MAX = 1000;

// "Report…" from the conversation's header: a reason, optional details, and blocking the Page in the same step
// (checked by default, as Messenger offers it; not shown when the Page is blocked already). Escape cancels; the
// first reason takes the focus when it opens.
export function ReportDialog(props: {
  pageName: string;
  blocked: boolean;
  onSubmit(input: ReportInput): Promise<void>;
  onCancel(): void;
}) {
  const { pageName, blocked, onSubmit, onCancel } = props;
  const [reason, setReason] = useState<ReportReason | null>(null);
  const [details, setDetails] = useState('');
  const [alsoBlock, setAlsoBlock] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);

  async function submit(e: Event) {
    e.preventDefault();
    if (!reason || busy) return;
    setBusy(true);
    setError(null);
    try {
      await onSubmit({
        reason,
        ...(details.trim() ? { details: details.trim() } : {}),
        ...(!blocked && alsoBlock ? { block: true } : {}),
      });
    } catch (err) {
      setError(`Could not send the report: ${err instanceof Error ? err.message : String(err)}`);
      setBusy(false);
    }
  }

  return (
    <div
      class="confirm report-dialog"
      role="dialog"
      aria-label={`Report ${pageName}`}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          onCancel();
        }
      }}
    >
      <form onSubmit={(e) => void submit(e)}>
        <fieldset>
          <legend>
            <strong>Report {pageName}</strong> What’s wrong with this conversation? {pageName} won’t know you reported
            it.
          </legend>
          {REPORT_REASONS.map((r, i) => (
            <label class="report-reason" key={r.value}>
              <input
                type="radio"
                name="report-reason"
                value={r.value}
                ref={i === 0 ? first : undefined}
                checked={reason === r.value}
                onChange={() => setReason(r.value)}
              />{' '}
              {r.label}
            </label>
          ))}
        </fieldset>
        <label>
          Details (optional)
          <textarea
            maxLength={DETAILS_MAX}
            rows={2}
            value={details}
            onInput={(e) => setDetails((e.target as HTMLTextAreaElement).value)}
            placeholder="Anything that helps us understand"
          />
        </label>
        {!blocked && (
          <label class="report-block">
            <input
              type="checkbox"
              checked={alsoBlock}
              onChange={(e) => setAlsoBlock((e.target as HTMLInputElement).checked)}
            />{' '}
            Also block messages from {pageName}
          </label>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="confirm-actions">
          <button type="button" class="secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" class="danger" disabled={!reason || busy}>
            Submit
          </button>
        </div>
      </form>
    </div>
  );
}
