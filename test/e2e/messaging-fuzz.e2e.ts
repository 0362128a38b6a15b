import fc from "fast-check";
import { httpClient, HttpClient } from "../support/http-client";
import { rowCounts } from "../support/row-counts";
import { anyQueryText, anyText, expectNo5xx, fuzzBody, fuzzExamples, RouteExample } from "../support/fuzz-request";
import { startTestPlatform, TestPlatform } from "../support/spawn-platform";
import { clientId, conversationWithPsid, openThread, pageSays, personSays } from "../factories/messaging.factory";
import { Person, signupPerson } from "../factories/registry.factory";
import { connectPerson } from "../support/person-socket";

// Random bodies, queries and headers at the person API and the Send API: never a 5xx, always the route's
// error shape, and nothing written when a request is refused.
describe("messaging routes under random input", () => {
  let t: TestPlatform;
  let api: HttpClient;
  let c: Awaited<ReturnType<typeof conversationWithPsid>>;
  let mid: string;
  let couponMid: string;
  let surveyMid: string;
  let optinMid: string;
  let blocker: { person: Person; thread: { id: string } };

  const coupon = {
    attachment: {
      type: "template",
      payload: { template_type: "coupon", title: "10% off", coupon_code: "10PERCENT", payload: "SUMMER" },
    },
  };

  const survey = {
    attachment: {
      type: "template",
      payload: {
        template_type: "customer_feedback",
        title: "Rate us",
        button_title: "Rate",
        feedback_screens: [{ questions: [{ id: "q", type: "nps", follow_up: { type: "free_form" } }] }],
        business_privacy: { url: "https://shop.example/privacy" },
      },
    },
  };

  const optinRequest = {
    attachment: { type: "template", payload: { template_type: "notification_messages", title: "Weekly deals", payload: "DEALS" } },
  };

  beforeAll(async () => {
    // A send bucket no run empties: uploads spend it too, and a 429 would answer before the multipart is parsed.
    t = await startTestPlatform({ redis: false, env: { PERSON_SEND_BURST: "100000" } });
    api = httpClient(t.url);
    // No webhook subscription: the worker writes nothing behind the test's back.
    c = await conversationWithPsid(api, t.db);
    mid = (await personSays(api, c.person, c.thread.id, "edit me, react to me")).mid;
    // A coupon to reveal (its first reveal writes; every later one, and every refusal, nothing).
    couponMid = (await pageSays(api, c.pageToken, c.psid, coupon)).body.message_id;
    // A survey to answer (likewise: the first good answer writes).
    surveyMid = (await pageSays(api, c.pageToken, c.psid, survey)).body.message_id;
    // A marketing messages opt-in request (its first tap writes, a stop and a resume too; refusals nothing).
    optinMid = (await pageSays(api, c.pageToken, c.psid, optinRequest)).body.message_id;
    const person = await signupPerson(api, "Blocker");
    blocker = { person, thread: await openThread(api, person, c.page.id) };
  });
  afterAll(async () => t?.close());

  const routes = () => [
    { method: "POST", path: "/threads", token: c.person.token },
    { method: "GET", path: "/threads", token: c.person.token },
    { method: "GET", path: `/threads/${c.thread.id}`, token: c.person.token },
    {
      method: "POST",
      path: `/threads/${c.thread.id}/messages`,
      token: c.person.token,
    },
    {
      method: "GET",
      path: `/threads/${c.thread.id}/messages`,
      token: c.person.token,
    },
    {
      method: "POST",
      path: `/threads/${c.thread.id}/postbacks`,
      token: c.person.token,
    },
    {
      method: "POST",
      path: `/threads/${c.thread.id}/read`,
      token: c.person.token,
    },
    {
      method: "POST",
      path: `/threads/${c.thread.id}/delivered`,
      token: c.person.token,
    },
    {
      method: "POST",
      path: "/threads/not-a-thread/messages",
      token: c.person.token,
    },
    { method: "PATCH", path: `/threads/${c.thread.id}/messages/${mid}`, token: c.person.token },
    { method: "PUT", path: `/threads/${c.thread.id}/messages/${mid}/reaction`, token: c.person.token },
    { method: "DELETE", path: `/threads/${c.thread.id}/messages/${mid}/reaction`, token: c.person.token },
    { method: "PUT", path: `/threads/${c.thread.id}/messages/m_nope/reaction`, token: c.person.token },
    { method: "POST", path: `/threads/${c.thread.id}/messages/${couponMid}/reveal`, token: c.person.token },
    // Not a coupon, and not a message of the thread.
    { method: "POST", path: `/threads/${c.thread.id}/messages/${mid}/reveal`, token: c.person.token },
    { method: "POST", path: `/threads/${c.thread.id}/messages/m_nope/reveal`, token: c.person.token },
    { method: "POST", path: `/threads/${c.thread.id}/messages/${surveyMid}/feedback`, token: c.person.token },
    { method: "POST", path: `/threads/${c.thread.id}/messages/${couponMid}/feedback`, token: c.person.token },
    // No app of the Page asks for response_feedback here: every thumb is refused (and writes nothing).
    { method: "PUT", path: `/threads/${c.thread.id}/messages/${couponMid}/response-feedback`, token: c.person.token },
    { method: "POST", path: `/threads/${c.thread.id}/messages/${optinMid}/optin`, token: c.person.token },
    { method: "DELETE", path: `/threads/${c.thread.id}/messages/${optinMid}/optin`, token: c.person.token },
    // Not an opt-in request, and not a message of the thread.
    { method: "POST", path: `/threads/${c.thread.id}/messages/${couponMid}/optin`, token: c.person.token },
    { method: "DELETE", path: `/threads/${c.thread.id}/messages/m_nope/optin`, token: c.person.token },
    { method: "GET", path: `/threads/${c.thread.id}/notification-messages`, token: c.person.token },
    // On a thread of its own: a block left set would refuse the sends later tests make on c.thread.
    { method: "POST", path: `/threads/${blocker.thread.id}/block`, token: blocker.person.token },
    { method: "DELETE", path: `/threads/${blocker.thread.id}/block`, token: blocker.person.token },
    { method: "POST", path: `/threads/${c.thread.id}/block`, token: blocker.person.token },
    { method: "POST", path: "/threads/not-a-thread/block", token: c.person.token },
    // Reports on the blocker's thread too (one may block it); someone else's thread and no thread are refused.
    { method: "POST", path: `/threads/${blocker.thread.id}/report`, token: blocker.person.token },
    { method: "POST", path: `/threads/${c.thread.id}/report`, token: blocker.person.token },
    { method: "POST", path: "/threads/not-a-thread/report", token: c.person.token },
    { method: "GET", path: "/v25.0/me/notification_message_tokens", token: c.pageToken },
    { method: "GET", path: "/events", token: c.person.token },
    { method: "GET", path: `/threads/${c.thread.id}/account-linking`, token: c.person.token },
    { method: "POST", path: `/threads/${c.thread.id}/account-linking`, token: c.person.token },
    { method: "DELETE", path: `/threads/${c.thread.id}/account-linking`, token: c.person.token },
    { method: "GET", path: "/account-linking/complete", token: c.person.token },
    { method: "POST", path: "/account-linking/complete", token: c.person.token },
    { method: "POST", path: "/v25.0/me/unlink_accounts", token: c.pageToken },
    { method: "GET", path: "/v25.0/me", token: c.pageToken },
    { method: "POST", path: "/v25.0/me/messages", token: c.pageToken },
    {
      method: "POST",
      path: `/v25.0/${c.page.id}/messages`,
      token: c.pageToken,
    },
    { method: "POST", path: "/v25.0/123/messages", token: c.pageToken },
    { method: "POST", path: "/v25.0/me/messages", token: c.person.token },
  ];

  // Built once the conversation exists: some values are its real PSID and page id.
  const arbitraries = () => {
    const scalar = fc.oneof(
      anyText(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(""),
    );
    // A coupon whose fields are anything (spaces in the code, NUL, numbers, objects…).
    const randomCoupon = fc
      .record(
        {
          title: fc.oneof(fc.constant("10% off"), anyText(), fc.constant("x".repeat(81)), fc.integer()),
          subtitle: anyText(),
          coupon_code: fc.oneof(fc.constant("10OFF"), anyText(), fc.constant("10 OFF"), fc.integer(), fc.constant({ code: 1 })),
          coupon_url: fc.oneof(anyText(), fc.constant("https://shop.example/")),
          coupon_url_button_title: anyText(),
          coupon_pre_message: anyText(),
          image_url: fc.oneof(anyText(), fc.constant("https://shop.example/a.png")),
          payload: fc.oneof(anyText(), fc.integer(), fc.jsonValue()),
        },
        { requiredKeys: [] },
      )
      .map((p) => ({ attachment: { type: "template", payload: { template_type: "coupon", ...p } } }));
    // An opt-in request whose fields are anything.
    const randomOptinRequest = fc
      .record(
        {
          title: fc.oneof(fc.constant("Deals"), anyText(), fc.constant("x".repeat(66)), fc.integer()),
          payload: fc.oneof(anyText(), fc.integer(), fc.jsonValue()),
          image_url: fc.oneof(anyText(), fc.constant("https://shop.example/a.png")),
          notification_messages_frequency: fc.oneof(anyText(), fc.constantFrom("DAILY", "weekly", "HOURLY")),
          notification_messages_cta_text: fc.oneof(anyText(), fc.constantFrom("ALLOW", "get_updates", "SUBSCRIBE")),
          notification_messages_timezone: fc.oneof(anyText(), fc.constantFrom("UTC", "Europe/Paris", "Mars/Olympus", "")),
          notification_messages_reoptin: fc.oneof(anyText(), fc.constantFrom("ENABLED", "yes")),
        },
        { requiredKeys: [] },
      )
      .map((p) => ({ attachment: { type: "template", payload: { template_type: "notification_messages", ...p } } }));
    const value = () =>
      fc.oneof(
        scalar,
        fc.array(fc.oneof(anyText(), fc.constant("m_x"))),
        fc.jsonValue(),
        fc.constant(Date.now()),
        fc.constant(-1),
        fc.constant("x".repeat(2000)),
        fc.constant({ id: c.psid }),
        fc.constant({ text: "hi" }),
        fc.constant({ payload: "P" }),
        fc.constant({
          attachment: {
            type: "template",
            payload: { template_type: "button", text: "t", buttons: [] },
          },
        }),
        fc.constant(c.page.id),
        fc.constantFrom(c.psid, mid, "https://shop.example/login"),
        fc.constant({ mid }),
        // An own `constructor` key once sent class-transformer looking for a class by that name: a 500 (Send API).
        fc.constant({ constructor: "1" }),
        fc.constant({ title: "t", constructor: {} }),
        fc.constantFrom("❤️", "👍🏽", "react", "unreact", "summer-sale"),
        fc.constant({ message_id: mid, reaction: "😊" }),
        fc.constant({ message_id: mid }),
        fc.constant(coupon),
        randomCoupon,
        fc.constant(survey),
        fc.constantFrom("good", "bad", "Good response"),
        // A report's reasons, and one that is not.
        fc.constantFrom("spam", "scam", "inappropriate", "harassment", "other", "SPAM", "abuse"),
        // Answers to the survey: the right question or not, scores on and off its scale, text of any length.
        fc.array(
          fc.record(
            {
              question_id: fc.oneof(fc.constant("q"), anyText(), fc.integer()),
              score: fc.oneof(fc.integer({ min: -2, max: 12 }), fc.double(), anyText()),
              follow_up: fc.oneof(anyText(), fc.constant("x".repeat(401)), fc.integer()),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
        fc.constant(optinRequest),
        randomOptinRequest,
        fc.constant({ notification_messages_token: "A".repeat(43) }),
        fc.record({ notification_messages_token: anyText() }),
      );
    const body = fc.oneof(
      fc.jsonValue(),
      // A well-formed Send API body around a random coupon (the Send API routes), refused as a whole elsewhere.
      randomCoupon.map((message) => ({ recipient: { id: c.psid }, messaging_type: "RESPONSE", message })),
      randomOptinRequest.map((message) => ({ recipient: { id: c.psid }, messaging_type: "RESPONSE", message })),
      // A marketing message to a token that is nobody's, or not a token at all.
      fc
        .oneof(anyText(), fc.constant("A".repeat(43)), fc.integer())
        .map((token) => ({ recipient: { notification_messages_token: token }, message: { text: "hi" } })),
      fc.dictionary(
        fc.constantFrom(
          "text",
          "quick_reply",
          "client_message_id",
          "title",
          "payload",
          "watermark",
          "mids",
          "page_id",
          "recipient",
          "message",
          "sender_action",
          "messaging_type",
          "tag",
          "notification_type",
          "access_token",
          "reply_to",
          "reaction",
          "ref",
          "mid",
          "url",
          "psid",
          "account_linking_token",
          "authorization_code",
          "answers",
          "feedback",
          "reason",
          "details",
          "block",
          "__proto__",
          "constructor",
          "extra",
        ),
        value(),
      ),
    );
    const contentType = fc.constantFrom(
      "application/json",
      "application/x-www-form-urlencoded",
      "text/plain",
      "",
    );
    const query = fc.oneof(
      fc.constant(""),
      anyQueryText().map(
        (s) =>
          `?after=${encodeURIComponent(s)}&after_seq=${encodeURIComponent(s)}&limit=${encodeURIComponent(s)}&cursor=${encodeURIComponent(s)}`,
      ),
      fc.constant("?after_seq=-1&limit=1000"),
      anyQueryText().map(
        (s) => `?account_linking_token=${encodeURIComponent(s)}&authorization_code=${encodeURIComponent(s)}&fields=recipient`,
      ),
      fc.constant(`?account_linking_token=alt_${"A".repeat(43)}&authorization_code=x&fields=recipient`),
      fc.constant("?recipient=%7B%22id%22%3A%221%22%7D&message=%7B"),
    );
    const auth = fc.oneof(
      fc.constant(undefined),
      fc.string(),
      fc.constant("Bearer sbu_"),
      fc.string().map((s) => `Bearer ${s}`),
    );
    return { body, contentType, query, auth };
  };

  it("never answers 5xx and writes nothing when it refuses", async () => {
    const all = routes();
    const { body, contentType, query, auth } = arbitraries();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: all.length - 1 }),
        body,
        contentType,
        query,
        auth,
        fc.boolean(),
        async (i, b, ct, q, authz, useToken) => {
          const route = all[i];
          const headers: Record<string, string> = {};
          if (ct) headers["content-type"] = ct;
          const authHeader = useToken ? `Bearer ${route.token}` : authz;
          if (authHeader !== undefined && /^[\t\x20-\x7e]*$/.test(authHeader))
            headers.authorization = authHeader;
          const raw = route.method !== "GET" ? fuzzBody(ct, b) : undefined;
          // The long-poll must not wait here.
          const path =
            route.path === "/events"
              ? `${route.path}${q || "?"}&timeout=0`
              : `${route.path}${q}`;
          await expectNo5xx(t.db, api, route.method, path, { headers, raw });
        },
      ),
      { numRuns: 400 },
    );
  }, 240_000);

  // Bodies each route takes, with one place changed (a value made hostile, or removed): unlike random bodies they get
  // past a route's first checks to the code behind them.
  it("never answers 5xx to a body the route takes with one thing changed, and writes nothing when it refuses", async () => {
    const graph = (path: string, token = c.pageToken) => `/v25.0/${path}?access_token=${encodeURIComponent(token)}`;
    // Someone with no right to each call: another person, and another Page's token (the PSID means nothing there;
    // calls about the Page itself, its profile or a batch, have no stranger: another Page's token acts on its own).
    const other = await conversationWithPsid(api, t.db);
    const strangerPerson = { token: other.person.token };
    const otherPage = (path: string) => ({ path: graph(path, other.pageToken) });
    const send = (message: unknown) => ({ recipient: { id: c.psid }, messaging_type: "RESPONSE", message });
    const menu = [{ locale: "default", call_to_actions: [{ type: "postback", title: "Help", payload: "HELP" }] }];
    // A button to tap (a postback must be one the Page offered).
    await pageSays(api, c.pageToken, c.psid, { attachment: { type: "template", payload: { template_type: "button", text: "Pick", buttons: [{ type: "postback", title: "Buy", payload: "BUY" }] } } });
    // `refused`: no app here takes thumbs, no Log In button was sent, the token is nobody's: their refusals past
    // the first checks are what is tested.
    const examples: RouteExample[] = [
      { method: "POST", path: "/threads", token: c.person.token, body: { page_id: c.page.id, ref: "summer-sale" } },
      { method: "POST", path: `/threads/${c.thread.id}/messages`, token: c.person.token, stranger: strangerPerson, body: { text: "hi", client_message_id: "k", reply_to: { mid } } },
      { method: "POST", path: `/threads/${c.thread.id}/postbacks`, token: c.person.token, stranger: strangerPerson, body: { title: "Buy", payload: "BUY" } },
      { method: "POST", path: `/threads/${c.thread.id}/read`, token: c.person.token, stranger: strangerPerson, body: { watermark: Date.now() } },
      { method: "POST", path: `/threads/${c.thread.id}/delivered`, token: c.person.token, stranger: strangerPerson, body: { watermark: Date.now(), mids: [couponMid] } },
      { method: "PATCH", path: `/threads/${c.thread.id}/messages/${mid}`, token: c.person.token, stranger: strangerPerson, body: { text: "edited" } },
      { method: "PUT", path: `/threads/${c.thread.id}/messages/${mid}/reaction`, token: c.person.token, stranger: strangerPerson, body: { reaction: "😍" } },
      { method: "POST", path: `/threads/${c.thread.id}/messages/${surveyMid}/feedback`, token: c.person.token, stranger: strangerPerson, body: { answers: [{ question_id: "q", score: 9, follow_up: "great" }] } },
      { method: "PUT", path: `/threads/${c.thread.id}/messages/${couponMid}/response-feedback`, token: c.person.token, stranger: strangerPerson, body: { feedback: "good" }, refused: true },
      { method: "POST", path: `/threads/${blocker.thread.id}/report`, token: blocker.person.token, stranger: strangerPerson, body: { reason: "spam", details: "they sell fakes", block: false } },
      { method: "POST", path: `/threads/${c.thread.id}/account-linking`, token: c.person.token, stranger: strangerPerson, body: { mid, url: "https://shop.example/login" }, refused: true },
      { method: "POST", path: "/account-linking/complete", token: c.person.token, body: { account_linking_token: `alt_${"A".repeat(43)}`, authorization_code: "code" }, refused: true },
      { method: "POST", path: graph("me/messages"), stranger: otherPage("me/messages"), body: send({ text: "hi", quick_replies: [{ content_type: "text", title: "A", payload: "A" }], metadata: "m" }) },
      { method: "POST", path: graph("me/messages"), stranger: otherPage("me/messages"), body: send(coupon) },
      { method: "POST", path: graph("me/messages"), stranger: otherPage("me/messages"), body: send(survey) },
      { method: "POST", path: graph("me/messages"), stranger: otherPage("me/messages"), body: send(optinRequest) },
      {
        method: "POST",
        path: graph("me/messages"), stranger: otherPage("me/messages"),
        body: send({
          attachment: {
            type: "template",
            payload: {
              template_type: "generic",
              elements: [{ title: "T", subtitle: "S", image_url: "https://shop.example/a.png", buttons: [{ type: "postback", title: "B", payload: "P" }, { type: "web_url", url: "https://shop.example/", title: "W" }] }],
            },
          },
        }),
      },
      { method: "POST", path: graph("me/messages"), stranger: otherPage("me/messages"), body: { recipient: { id: c.psid }, sender_action: "react", payload: { message_id: mid, reaction: "😊" } } },
      { method: "POST", path: graph("me/messages"), stranger: otherPage("me/messages"), body: { recipient: { notification_messages_token: "A".repeat(43) }, message: { text: "hi" } }, refused: true },
      { method: "POST", path: graph("me/unlink_accounts"), stranger: otherPage("me/unlink_accounts"), body: { psid: c.psid } },
      {
        method: "POST",
        path: graph("me/messenger_profile"),
        body: { get_started: { payload: "START" }, greeting: [{ locale: "default", text: "Hi {{user_first_name}}" }], ice_breakers: [{ question: "Hours?", payload: "HOURS" }] },
      },
      { method: "POST", path: graph("me/custom_user_settings"), stranger: otherPage("me/custom_user_settings"), body: { psid: c.psid, persistent_menu: menu } },
      // The Page has no primary receiver here: handing control around is refused past its checks.
      { method: "POST", path: graph("me/pass_thread_control"), stranger: otherPage("me/pass_thread_control"), body: { recipient: { id: c.psid }, target_app_id: "263902037430900", metadata: "to a human" }, refused: true },
      { method: "POST", path: graph("me/request_thread_control"), stranger: otherPage("me/request_thread_control"), body: { recipient: { id: c.psid }, metadata: "mine" }, refused: true },
      { method: "POST", path: graph("me/take_thread_control"), stranger: otherPage("me/take_thread_control"), body: { recipient: { id: c.psid }, metadata: "mine" }, refused: true },
      { method: "POST", path: graph("me/release_thread_control"), stranger: otherPage("me/release_thread_control"), body: { recipient: { id: c.psid } }, refused: true },
      {
        method: "POST",
        path: graph(""),
        body: {
          batch: [
            { method: "POST", relative_url: "me/messages", name: "first", body: `recipient=${encodeURIComponent(JSON.stringify({ id: c.psid }))}&messaging_type=RESPONSE&message=${encodeURIComponent(JSON.stringify({ text: "one" }))}` },
            { method: "GET", relative_url: "me?fields=id,name", depends_on: "first" },
          ],
        },
      },
    ];
    await fuzzExamples(t.db, api, examples, 400);
  }, 240_000);

  // Cursors as the routes hand them out (base64url of "<ms>|<id>"), with what is inside changed.
  it("never answers 5xx to a cursor of the right shape with the wrong inside", async () => {
    const inside = fc.tuple(
      fc.oneof(fc.constant(String(Date.now())), fc.integer().map(String), anyText(), fc.constant("1e400"), fc.constant("")),
      fc.oneof(fc.uuid(), fc.stringMatching(/^[0-9a-f-]{36}$/), fc.stringMatching(/^\d{1,25}$/), anyText()),
      fc.constantFrom("|", "||", ""),
    );
    await fc.assert(
      fc.asyncProperty(inside, fc.constantFrom("me/notification_message_tokens"), async ([at, id, sep], path) => {
        const after = Buffer.from(`${at}${sep}${id}`).toString("base64url");
        const res = await expectNo5xx(t.db, api, "GET", `/v25.0/${path}?after=${after}&access_token=${encodeURIComponent(c.pageToken)}`, {});
        expect([200, 400]).toContain(res.status);
      }),
      { numRuns: 200 },
    );
  });

  // Uploads cut short, boundaries missing, empty, over busboy's 256 characters or not matching the body, and
  // garbage: the routes that read multipart, and two that don't.
  it("never answers 5xx to malformed multipart bodies, and writes nothing when it refuses", async () => {
    const routes = [
      { path: `/threads/${c.thread.id}/attachments`, token: c.person.token },
      { path: "/v25.0/me/message_attachments", token: c.pageToken },
      { path: "/v25.0/me/messages", token: c.pageToken },
      { path: `/threads/${c.thread.id}/messages`, token: c.person.token },
    ];
    const png = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a0e7d3a40000000049454e44ae426082", "hex");
    const part = fc.record({
      name: fc.constantFrom("file", "filedata", "message", "recipient", "x"),
      filename: fc.option(fc.constantFrom("a.png", "", '"q"', "x".repeat(300))),
      type: fc.option(fc.constantFrom("image/png", "application/json", "text/plain", "")),
      content: fc.oneof(
        fc.constant(png),
        fc.constant(Buffer.from('{"attachment":{"type":"image","payload":{"is_reusable":true}}}')),
        fc.string().map((s) => Buffer.from(s)),
      ),
    });
    const boundary = fc.oneof(fc.constant("sbfuzz"), fc.constant(""), fc.constant("b".repeat(300)), fc.stringMatching(/^[A-Za-z0-9_-]{1,70}$/));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: routes.length - 1 }),
        boundary,
        fc.constantFrom("header matches", "header differs", "no boundary in header", "quoted"),
        fc.array(part, { maxLength: 3 }),
        fc.oneof(fc.constant(Infinity), fc.nat()),
        fc.boolean(),
        async (i, b, header, parts, cutAt, garbage) => {
          const route = routes[i];
          const body = garbage
            ? Buffer.from(`--${b}\r\nnot a header\r\n\r\n--${b}--garbage`)
            : Buffer.concat([
                ...parts.map((p) =>
                  Buffer.concat([
                    Buffer.from(
                      `--${b}\r\ncontent-disposition: form-data; name="${p.name}"${p.filename !== null ? `; filename="${p.filename}"` : ""}\r\n` +
                        (p.type !== null ? `content-type: ${p.type}\r\n` : "") +
                        "\r\n",
                    ),
                    p.content,
                    Buffer.from("\r\n"),
                  ]),
                ),
                Buffer.from(`--${b}--\r\n`),
              ]);
          const contentType = {
            "header matches": `multipart/form-data; boundary=${b}`,
            "header differs": "multipart/form-data; boundary=other",
            "no boundary in header": "multipart/form-data",
            quoted: `multipart/form-data; boundary="${b}"`,
          }[header];
          await expectNo5xx(t.db, api, "POST", route.path, {
            headers: { "content-type": contentType, authorization: `Bearer ${route.token}` },
            raw: body.subarray(0, Math.min(body.length, cutAt)),
          });
        },
      ),
      { numRuns: 300 },
    );
  }, 240_000);

  it("answers bodies that once crashed the transformer: absurd nesting refused, a constructor key dropped or refused", async () => {
    // Written by hand: JSON.stringify itself overflows the stack on this.
    const deep = `${"[".repeat(20_000)}"x"${"]".repeat(20_000)}`;
    const post = (path: string, raw: string) =>
      api.call("POST", path, undefined, { headers: { "content-type": "application/json", authorization: `Bearer ${c.person.token}` }, raw });
    for (const raw of [
      `{"text":"x","client_message_id":"k2","quick_reply":{"payload":${deep}}}`,
      `{"text":"x","client_message_id":"k3","attachments":[{"media_id":${deep}}]}`,
    ]) {
      const before = await rowCounts(t.db);
      const res = await post(`/threads/${c.thread.id}/messages`, raw);
      expect([res.status, res.body.code]).toEqual([400, "REQUEST.VALIDATION_FAILED"]);
      expect(res.body.details).toEqual([expect.objectContaining({ rule: "maxDepth", field: expect.stringMatching(/^(quick_reply\.payload|attachments\[0\]\.media_id)(\[0\])+$/) })]);
      expect(await rowCounts(t.db)).toEqual(before);
    }
    // A DTO route: Nest's ValidationPipe strips own constructor keys, so the message is taken without it (a
    // quick reply the Page offered).
    await personSays(api, c.person, c.thread.id, "hello");
    expect((await pageSays(api, c.pageToken, c.psid, { text: "Pick", quick_replies: [{ content_type: "text", title: "P", payload: "p-offered" }] })).status).toBe(200);
    const taken = await post(`/threads/${c.thread.id}/messages`, JSON.stringify({ text: "P", client_message_id: "k1", quick_reply: { payload: "p-offered", constructor: "1" } }));
    expect([taken.status, taken.body.mid]).toEqual([201, expect.stringMatching(/^m_/)]);
    // The Send API's own schemas refuse it as an unknown field (it was a TypeError, answered 500).
    const graph = await api.post(`/v25.0/me/messages?access_token=${c.pageToken}`, { recipient: { id: c.psid }, message: { text: "x", metadata: { constructor: "1" } } });
    expect([graph.status, graph.body.error?.code, graph.body.error?.message]).toEqual([400, 100, "(#100) param message[metadata][constructor] is not a known field"]);
  });

  // Postgres stores neither in text or jsonb; each used to fail inside a statement, a 500.
  it("refuses a NUL character or an unpaired surrogate anywhere with a 400 in the route's shape, on REST and the socket", async () => {
    const person = { token: c.person.token };
    const graph = `/v25.0/me/messages?access_token=${encodeURIComponent(c.pageToken)}`;
    for (const bad of ["a\u0000b", "x\ud800", "\udc00y"]) {
      const cases: [string, string, unknown, Record<string, string>?][] = [
        ["POST", `/threads/${c.thread.id}/messages`, { text: bad, client_message_id: clientId() }],
        ["POST", `/threads/${c.thread.id}/postbacks`, { title: bad, payload: "P" }],
        ["POST", `/threads/${c.thread.id}/messages`, { text: "t", quick_reply: { payload: bad }, client_message_id: clientId() }],
        // A path parameter (a lone surrogate can't be percent-encoded, so NUL only).
        ["POST", `/threads/${encodeURIComponent(bad.replace(/[\ud800-\udfff]/g, "\u0000"))}/messages`, { text: "t", client_message_id: clientId() }],
        ["POST", graph, { recipient: { id: c.psid }, messaging_type: "RESPONSE", message: { text: bad } }],
        ["POST", graph, { recipient: { id: c.psid }, messaging_type: "RESPONSE", message: { text: "t", metadata: bad } }],
      ];
      for (const [method, path, body] of cases) {
        const res = await expectNo5xx(t.db, api, method, path, { token: path.startsWith("/v") ? undefined : person.token, headers: { "content-type": "application/json" }, raw: JSON.stringify(body) });
        expect({ path, body, status: res.status }).toEqual({ path, body, status: 400 });
      }
      // As a form, and in a query.
      const form = await expectNo5xx(t.db, api, "POST", graph, {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        raw: new URLSearchParams({ recipient: JSON.stringify({ id: c.psid }), messaging_type: "RESPONSE", message: JSON.stringify({ text: bad }) }).toString(),
      });
      expect([form.status, form.body.error.code]).toEqual([400, 100]);
    }
    const query = await expectNo5xx(t.db, api, "GET", `/threads/${c.thread.id}/messages?after_seq=%00`, { token: c.person.token });
    expect(query.status).toBe(400);
    const sock = await connectPerson(t.url, c.person.token);
    try {
      for (const frame of [
        { type: "send", ref: "nul-text", thread_id: c.thread.id, text: "a\u0000b", client_message_id: clientId() },
        { type: "send", ref: "nul-thread", thread_id: "1\u0000", text: "t", client_message_id: clientId() },
        { type: "send", ref: "lone", thread_id: c.thread.id, text: "\ud800", client_message_id: clientId() },
      ]) {
        const before = await rowCounts(t.db);
        sock.ws.send(JSON.stringify(frame));
        const answer = await sock.waitFor(`answer to ${frame.ref}`, (e) => e.ref === frame.ref, 5_000);
        expect(answer).toMatchObject({ type: "error", code: "REQUEST.VALIDATION_FAILED" });
        expect(await rowCounts(t.db)).toEqual(before);
      }
    } finally {
      await sock.close();
    }
  });

  // The socket's frames: every JSON object frame is answered (ack, pong or an error with a client-side code),
  // the socket stays open, and a refused send writes nothing.
  it("answers every random socket frame without an internal error, and writes nothing it refuses", async () => {
    const sock = await connectPerson(t.url, c.person.token);
    const { body } = arbitraries();
    const frame = fc.record(
      {
        type: fc.oneof(fc.constantFrom("send", "ping", "dance", "", "watch_inbox", "unwatch_inbox"), fc.string(), fc.integer()),
        page_id: fc.oneof(fc.constant(c.page.id), fc.constant("99999999999"), anyText(), fc.integer(), fc.constant(null), body),
        thread_id: fc.oneof(fc.constant(c.thread.id), anyText(), fc.integer(), fc.constant(null)),
        text: fc.oneof(anyText(), fc.constant("x".repeat(2001)), fc.integer(), fc.constant("hello")),
        client_message_id: fc.oneof(fc.string(), fc.constant("fuzz-1"), fc.integer()),
        quick_reply: fc.oneof(fc.constant({ payload: "P" }), body),
        attachments: fc.oneof(fc.constant([{ media_id: "1" }]), body),
        extra: body,
      },
      { requiredKeys: ["type"] },
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(frame, async (f) => {
        const ref = `fuzz-${n++}`;
        const before = await rowCounts(t.db);
        const pongs = sock.events.filter((e) => e.type === "pong").length;
        sock.ws.send(JSON.stringify({ ...f, ref }));
        if (f.type === "ping") {
          await sock.waitForCount("pong", pongs + 1, (e) => e.type === "pong", 5_000);
          return;
        }
        const answer = await sock.waitFor(`answer to ${ref}`, (e) => e.ref === ref, 5_000);
        // Watching (only a Page's admins may; this person is none) writes nothing; unwatching is always answered.
        if (answer.type === "unwatched") return;
        if (answer.type === "ack") {
          expect(answer).toMatchObject({ mid: expect.stringMatching(/^m_/), seq: expect.any(Number) });
          return;
        }
        expect(answer).toMatchObject({ type: "error", code: expect.any(String), message: expect.any(String) });
        expect(["INTERNAL", "UNAVAILABLE"]).not.toContain(answer.code);
        expect(await rowCounts(t.db)).toEqual(before);
      }),
      { numRuns: 300 },
    );
    expect(sock.ws.readyState).toBe(sock.ws.OPEN);
    await sock.close();
  }, 240_000);
});
