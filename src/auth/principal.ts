export type Principal =
  | { kind: 'person'; userId: string }
  | { kind: 'page'; pageId: string; appId: string }
  | { kind: 'app'; appId: string };

export type PrincipalKind = Principal['kind'];

export type PersonPrincipal = Extract<Principal, { kind: 'person' }>;
export type PagePrincipal = Extract<Principal, { kind: 'page' }>;
export type AppPrincipal = Extract<Principal, { kind: 'app' }>;
