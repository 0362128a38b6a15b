// POST /threads/:id/attachments (multipart, field "file"). XMLHttpRequest, not fetch: only it reports upload progress.
import { ApiError, UploadedAttachment } from '../api';

export interface Upload {
  done: Promise<UploadedAttachment>;
  abort(): void;
}

export function uploadAttachment(
  threadId: string,
  file: File,
  token: string,
  onProgress: (loaded: number, total: number) => void,
): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<UploadedAttachment>((resolve, reject) => {
    xhr.open('POST', `/threads/${encodeURIComponent(threadId)}/attachments`);
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded, e.total);
    xhr.onload = () => {
      let body: any = xhr.responseText;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        // not JSON: keep the text
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as UploadedAttachment);
      else reject(new ApiError(xhr.status, body));
    };
    // No status: the connection failed (or the server closed it mid-upload, as it may past the size limit).
    xhr.onerror = () => reject(new Error('network'));
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}
