// The operators' tool grants (docs/limits.md, "What the pool pays for"): what
// the pool may pay for under a template or a creator's templates. The checks
// of a SetToolGrant request and the SQL of the tool_grants table; curation/service.ts
// verifies the operator's signature and logs it with the change.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { SetToolGrantRequest } from "@convos-pool/gen/convos/pool/v1/store_curation_service_pb.js";
import { ToolGrantSchema, type ToolGrant } from "@convos-pool/gen/convos/pool/v1/template_pb.js";
import { decodePageToken, encodePageToken, isDateAndId } from "@convos-pool/kit/server";
import {
  checkAll,
  GRANTED_TOOLS,
  INBOX_ID_PATTERN,
  invalidArgument,
  TEMPLATE_ID_PATTERN,
  WEI_PATTERN,
} from "@convos-pool/kit/content";

/** The most tools one grant may let its agents hold at once. */
export const MAX_LIVE_TOOLS = 1_000_000;

/** A checked SetToolGrant: whom it covers and what it allows (none: taken back). */
export interface GrantInput {
  subject: string;
  templateId: string;
  creatorId: string;
  /** Sorted, each once. */
  tools: string[];
  fundWei: bigint;
  maxLiveTools: number;
}

/** Checks a request's fields, naming every one that is wrong at once. Pure. */
export function checkGrantRequest(req: SetToolGrantRequest): GrantInput {
  const fund = req.fundWei.trim() || "0";
  checkAll(
    () => {
      if (!!req.templateId === !!req.creatorId)
        throw invalidArgument(
          "template_id",
          "name exactly one of template_id (one template) and creator_id (all of theirs)",
        );
      if (req.templateId && !TEMPLATE_ID_PATTERN.test(req.templateId))
        throw invalidArgument("template_id", 'must be a template id such as "tmpl_" followed by 16 letters or digits');
      if (req.creatorId && !INBOX_ID_PATTERN.test(req.creatorId))
        throw invalidArgument("creator_id", "must be an XMTP inbox ID (64 lower-case hex characters)");
    },
    ...req.tools.map((t, i) => () => {
      if (!(GRANTED_TOOLS as readonly string[]).includes(t))
        throw invalidArgument(
          `tools[${i}]`,
          `"${t}" is not a tool the pool pays for (${GRANTED_TOOLS.join(", ")}); a wallet is funded with fund_wei`,
        );
    }),
    () => {
      if (!WEI_PATTERN.test(fund)) throw invalidArgument("fund_wei", "must be a whole number of wei (decimal digits)");
    },
    () => {
      if (req.maxLiveTools < 0 || req.maxLiveTools > MAX_LIVE_TOOLS)
        throw invalidArgument("max_live_tools", `must be 0 (no quota) to ${MAX_LIVE_TOOLS}`);
    },
  );
  return {
    subject: req.templateId ? `template:${req.templateId}` : `creator:${req.creatorId}`,
    templateId: req.templateId,
    creatorId: req.creatorId,
    tools: [...new Set(req.tools)].sort(),
    fundWei: BigInt(fund),
    maxLiveTools: req.maxLiveTools,
  };
}

/** The fields SetToolGrant signs, but inboxId (the operator) and the envelope. */
export function grantFields(g: GrantInput): {
  templateId: string;
  creatorId: string;
  tools: string;
  fundWei: bigint;
  maxLiveTools: number;
} {
  return {
    templateId: g.templateId,
    creatorId: g.creatorId,
    tools: g.tools.join(","),
    fundWei: g.fundWei,
    maxLiveTools: g.maxLiveTools,
  };
}

interface GrantRow {
  subject: string;
  template_id: string;
  creator_id: string;
  tools: string[];
  fund_wei: string;
  max_live_tools: number;
  operator_id: string;
  granted_at: Date | string;
}

function grantToProto(r: GrantRow): ToolGrant {
  return create(ToolGrantSchema, {
    templateId: r.template_id,
    creatorId: r.creator_id,
    tools: r.tools,
    fundWei: String(r.fund_wei),
    maxLiveTools: r.max_live_tools,
    operatorId: r.operator_id,
    grantedAt: timestampFromDate(new Date(r.granted_at)),
  });
}

/** Sets the grant, or takes it back when it allows nothing; the grant now in force, if any. */
export async function putGrant(
  em: EntityManager,
  g: GrantInput,
  operatorId: string,
  at: Date,
): Promise<ToolGrant | undefined> {
  if (g.tools.length === 0 && g.fundWei === 0n) {
    await em.execute(`delete from tool_grants where subject = ?`, [g.subject], "run");
    return undefined;
  }
  const [row] = await em.execute<GrantRow[]>(
    `insert into tool_grants (subject, template_id, creator_id, tools, fund_wei, max_live_tools, operator_id, granted_at)
       values (?, ?, ?, string_to_array(?, ','), ?::numeric, ?, ?, ?)
     on conflict (subject) do update set tools = excluded.tools, fund_wei = excluded.fund_wei,
       max_live_tools = excluded.max_live_tools, operator_id = excluded.operator_id, granted_at = excluded.granted_at
     returning *`,
    // Arrays as parameters expand to lists: the tools go as one comma-joined text.
    [g.subject, g.templateId, g.creatorId, g.tools.join(","), g.fundWei.toString(), g.maxLiveTools, operatorId, at],
  );
  if (!row) throw new Error(`tool_grants: the upsert of ${g.subject} returned no row`);
  return grantToProto(row);
}

/** The grant in force for a template: its own, else its creator's. */
export async function grantFor(
  em: EntityManager,
  templateId: string,
  creatorId: string,
): Promise<ToolGrant | undefined> {
  const rows = await em.execute<GrantRow[]>(
    `select * from tool_grants where subject in (?, ?) order by (subject like 'template:%') desc limit 1`,
    [`template:${templateId}`, `creator:${creatorId}`],
  );
  return rows[0] && grantToProto(rows[0]);
}

/** The grants, newest first. */
export async function listGrants(
  em: EntityManager,
  q: { limit: number; pageToken: string },
): Promise<{ grants: ToolGrant[]; nextPageToken: string }> {
  const cursor = decodePageToken(q.pageToken, 2, "page_token", isDateAndId);
  const rows = await em.execute<GrantRow[]>(
    `select * from tool_grants ${cursor ? "where (granted_at, subject) < (?::timestamptz, ?)" : ""}
      order by granted_at desc, subject desc limit ${q.limit + 1}`,
    cursor ?? [],
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    grants: page.map(grantToProto),
    nextPageToken:
      rows.length > q.limit && last ? encodePageToken([new Date(last.granted_at).toISOString(), last.subject]) : "",
  };
}
