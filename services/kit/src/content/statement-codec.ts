// The pool's statement as a message of its own content type
// (docs/statement.md, "How it travels"): convos-pool.org/statement:1.0,
// whose content is the signed statement (the compact JWS, in JSON) and whose
// fallback is the statement in words, which Convos apps that do not know the
// type show (XMTP's convention for a content type of one's own). So members
// read words, and the agent's code and the `pool` CLI read the signature.
// Pure: a codec as @xmtp/node-sdk takes one, typed here by its shape, since
// the kit's ground floor imports no SDK.

/** An XMTP content type id. */
export interface ContentTypeId {
  authorityId: string;
  typeId: string;
  versionMajor: number;
  versionMinor: number;
}

/** XMTP's EncodedContent, as the SDK sends and hands it to a codec. */
export interface EncodedStatement {
  type: ContentTypeId;
  parameters: Record<string, string>;
  fallback?: string;
  content: Uint8Array;
}

/** A statement as it travels: signed (the compact JWS), and in words (the fallback). */
export interface StatementContent {
  jws: string;
  text: string;
}

export const STATEMENT_CONTENT_TYPE: ContentTypeId = {
  authorityId: "convos-pool.org",
  typeId: "statement",
  versionMajor: 1,
  versionMinor: 0,
};

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The message: the signed statement in its content, the words in its fallback. */
export function encodeStatement(s: StatementContent): EncodedStatement {
  return {
    type: STATEMENT_CONTENT_TYPE,
    parameters: {},
    fallback: s.text,
    content: new TextEncoder().encode(JSON.stringify({ jws: s.jws })),
  };
}

/** What a message of the type carries; undefined when its content is not a signed statement. */
export function decodeStatement(e: {
  content: Uint8Array;
  fallback?: string | undefined;
}): StatementContent | undefined {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(e.content));
  } catch {
    return undefined;
  }
  const jws = (body as { jws?: unknown } | null)?.jws;
  if (Array.isArray(body) || typeof jws !== "string" || !COMPACT_JWS.test(jws)) return undefined;
  return { jws, text: e.fallback ?? "" };
}

/** The codec to register with an XMTP client (the agent's, a person's, the `pool` CLI's). */
export const statementCodec = {
  contentType: STATEMENT_CONTENT_TYPE,
  encode: (s: StatementContent): EncodedStatement => encodeStatement(s),
  decode: (e: EncodedStatement): StatementContent | undefined => decodeStatement(e),
  fallback: (s: StatementContent): string => s.text,
  // Members are told: a statement is news about who may do what in their conversation.
  shouldPush: (): boolean => true,
};

/**
 * The statement a decoded message carries (the SDK's DecodedMessage, or a
 * JSON dump of one), with its words from the message's fallback when the
 * content lacks them; undefined for any other message.
 */
export function statementOf(m: {
  contentType?: { authorityId: string; typeId: string } | undefined;
  content: unknown;
  fallback?: string | undefined;
}): StatementContent | undefined {
  const t = m.contentType;
  if (t?.authorityId !== STATEMENT_CONTENT_TYPE.authorityId || t.typeId !== STATEMENT_CONTENT_TYPE.typeId)
    return undefined;
  const c = m.content as Partial<StatementContent> | undefined;
  if (typeof c?.jws !== "string" || !COMPACT_JWS.test(c.jws)) return undefined;
  return { jws: c.jws, text: c.text || m.fallback || "" };
}
