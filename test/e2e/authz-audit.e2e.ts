import sharp from 'sharp';
import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { clientId, conversationWithPsid, openThread, pageSays, personSays } from '../factories/messaging.factory';
import { signupPerson } from '../factories/registry.factory';

// Who may act, where the rule is not the route's guard alone: ids that reach another person's data.
describe('authorization: ids of someone else', () => {
  let t: TestPlatform;
  let api: HttpClient;

  beforeAll(async () => {
    t = await startTestPlatform({ redis: false });
    api = httpClient(t.url);
  });
  afterAll(async () => t?.close());

  it("a person can't send, and so get a fresh URL of, media the Page's bot sent into another person's thread", async () => {
    const c = await conversationWithPsid(api, t.db);
    await personSays(api, c.person, c.thread.id, 'my invoice, please');
    // The bot uploads the person's invoice (Attachment Upload API) and sends it to them alone.
    const png = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#a30' } })
      .png()
      .toBuffer();
    const form = new FormData();
    form.append('message', JSON.stringify({ attachment: { type: 'image', payload: { is_reusable: true } } }));
    form.append('filedata', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'invoice.png');
    const uploaded = await fetch(`${t.url}/v25.0/me/message_attachments?access_token=${c.pageToken}`, {
      method: 'POST',
      body: form,
    });
    expect(uploaded.status).toBe(200);
    const { attachment_id } = (await uploaded.json()) as { attachment_id: string };
    const sent = await pageSays(api, c.pageToken, c.psid, {
      attachment: { type: 'image', payload: { attachment_id } },
    });
    expect(sent.status).toBe(200);
    // Its media id is in every URL of it (expired ones included).
    const [{ media_id: mediaId }] = await t.db.query<{ media_id: string }>(
      'SELECT media_id FROM message_attachments WHERE id = $1',
      [attachment_id],
    );

    // Another person of the same Page names that id in a message of their own thread.
    const other = await signupPerson(api, 'Someone Else');
    const theirs = await openThread(api, other, c.page.id);
    const stolen = await api.post(
      `/threads/${theirs.id}/messages`,
      { attachments: [{ media_id: mediaId }], client_message_id: clientId() },
      { token: other.token },
    );
    expect(stolen.status).toBe(400);
    expect(stolen.body.code).toBe('MEDIA.UNKNOWN_ATTACHMENT');
    const listed = await api.get(`/threads/${theirs.id}/messages`, { token: other.token });
    expect(JSON.stringify(listed.body)).not.toContain(`/media/${mediaId}/`);
  });
});
