// Loads checked rows of a responses file through COPY into a temporary table and matches a whole
// batch at once: one statement finds each row's customer (by response code, then customer id, then
// phone, then email) and campaign, a second writes the matched rows to responses
// (record.ts) deduplicated on source + source_id. Both tables live on one reserved connection for
// the whole import and are emptied after each batch.
import type { Sql } from '../../../db/connection.ts';
import { CopyStage, type StageColumn } from '../../customers/import/copy-stage.ts';
import { insertImportedResponses } from '../record.ts';
import type { MatchedBy } from './columns.ts';

/** The staging table's columns, in the order of responseCopyLine (validate-row.ts). */
const STAGE_COLUMNS: StageColumn[] = [
  { name: 'n', type: 'int' },
  { name: 'source', type: 'text' },
  { name: 'source_id', type: 'text' },
  { name: 'kind', type: 'text' },
  { name: 'occurred_at', type: 'timestamptz' },
  { name: 'code', type: 'text' },
  { name: 'external_id', type: 'text' },
  { name: 'phone', type: 'text' },
  { name: 'email', type: 'text' },
  { name: 'value', type: 'numeric(14, 2)' },
  { name: 'currency', type: 'text' },
  { name: 'branch', type: 'text' },
  { name: 'staff', type: 'text' },
  { name: 'campaign', type: 'text' },
];

/** How one staged row came out. */
export interface RowOutcome {
  n: number;
  status: 'matched' | 'unmatched' | 'unknown_campaign' | 'campaign_conflict';
  matchedBy: MatchedBy | null;
  /** Customers with the row's phone and email (2 means two or more: ambiguous, not a match). */
  phoneMatches: number;
  emailMatches: number;
  /** The campaign of the row's response code, when it has one. */
  codeCampaign: string | null;
}

export interface StagedBatch {
  outcomes: RowOutcome[];
  /** Row numbers written to responses (the others that matched were already recorded: duplicates). */
  written: Set<number>;
}

export class ResponseStage {
  private readonly conn: CopyStage['conn'];

  private constructor(
    private readonly stage: CopyStage,
    private readonly importId: number,
  ) {
    this.conn = stage.conn;
  }

  static async open(sql: Sql, importId: number, opts: { timezone: string }): Promise<ResponseStage> {
    const conn = await sql.reserve();
    try {
      const stage = await CopyStage.create(conn, 'import_stage_responses', STAGE_COLUMNS);
      await conn`
        create temporary table if not exists import_match_responses (
          n int primary key, status text, matched_by text, customer_id bigint, campaign_id bigint)`;
      await conn`truncate import_match_responses`;
      // COPY reads a time without an offset in the session's time zone: the import's.
      await conn`select set_config('TimeZone', ${opts.timezone}, false)`;
      return new ResponseStage(stage, importId);
    } catch (error) {
      conn.release();
      throw error;
    }
  }

  /** Loads one batch (COPY text, one line per row), matches it and writes the matched rows. */
  async write(copyText: string): Promise<StagedBatch> {
    if (!copyText) return { outcomes: [], written: new Set() };
    try {
      await this.stage.load(copyText);
      // Statistics of the batch's keys let the planner choose index probes into customers and members.
      await this.stage.analyze(['code', 'external_id', 'phone', 'email']);
      const outcomes = await this.match();
      const written = await insertImportedResponses(
        this.conn,
        this.conn`
          select s.n, m.campaign_id, m.customer_id, s.kind, 'import:' || s.source as source,
            'import:' || s.source || ':' || s.source_id as dedupe_key,
            s.occurred_at, s.value,
            jsonb_strip_nulls(jsonb_build_object(
              'matched_by', m.matched_by, 'source_id', s.source_id, 'import_id', ${this.importId}::bigint,
              'code', case when m.matched_by = 'code' then s.code end,
              'currency', s.currency, 'branch', s.branch, 'staff', s.staff)) as details
          from import_stage_responses s join import_match_responses m on m.n = s.n
          where m.status = 'matched'`,
      );
      return { outcomes, written: new Set(written) };
    } finally {
      await this.stage.truncate();
      await this.conn`truncate import_match_responses`;
    }
  }

  private async match(): Promise<RowOutcome[]> {
    const rows = await this.conn<
      {
        n: number;
        status: RowOutcome['status'];
        matched_by: MatchedBy | null;
        phone_matches: number;
        email_matches: number;
        code_campaign: string | null;
      }[]
    >`
      with found as materialized (
        select s.n, s.campaign,
          bycode.customer_id as code_customer, bycode.campaign_id as code_campaign_id, bycode.slug as code_campaign,
          byext.id as ext_customer, byphone.found as phone_matches, byphone.id as phone_customer,
          byemail.found as email_matches, byemail.id as email_customer, named.id as named_campaign_id
        from import_stage_responses s
        -- Lookups by unique keys are index probes (limit 1 keeps them so): a batch is small next to
        -- the customers and members, which a hash join would read whole for every batch.
        left join lateral (
          select m.customer_id, m.campaign_id, c.slug from campaign_members m join campaigns c on c.id = m.campaign_id
          where m.response_code = s.code limit 1) bycode on true
        left join lateral (select c.id from customers c where c.external_id = s.external_id limit 1) byext on true
        -- Two customers with the same phone (or email) are no match: the next key is tried.
        cross join lateral (
          select count(*)::int as found, min(p.id) as id
          from (select c.id from customers c where c.phone = s.phone and c.phone is not null limit 2) p) byphone
        cross join lateral (
          select count(*)::int as found, min(e.id) as id
          from (select c.id from customers c
                where lower(c.email) = lower(s.email) and c.email is not null limit 2) e) byemail
        left join lateral (
          select c.id from campaigns c where c.slug = s.campaign or c.name = s.campaign
          order by c.slug = s.campaign desc, c.id limit 1) named on true
      ),
      decided as (
        select f.*,
          case when code_customer is not null then 'code'
               when ext_customer is not null then 'customer'
               when phone_matches = 1 then 'phone'
               when email_matches = 1 then 'email' end as matched_by
        from found f
      ),
      matched as (
        insert into import_match_responses (n, status, matched_by, customer_id, campaign_id)
        select n,
          case when campaign is not null and named_campaign_id is null then 'unknown_campaign'
               when code_campaign_id is not null and named_campaign_id is not null
                    and code_campaign_id <> named_campaign_id then 'campaign_conflict'
               when matched_by is null then 'unmatched'
               else 'matched' end,
          matched_by,
          case matched_by when 'code' then code_customer when 'customer' then ext_customer
                          when 'phone' then phone_customer when 'email' then email_customer end,
          coalesce(code_campaign_id, named_campaign_id)
        from decided
        returning n, status
      )
      select d.n, m.status, d.matched_by, d.phone_matches, d.email_matches, d.code_campaign
      from decided d join matched m on m.n = d.n
      order by d.n`;
    return rows.map((r) => ({
      n: r.n,
      status: r.status,
      matchedBy: r.matched_by,
      phoneMatches: r.phone_matches,
      emailMatches: r.email_matches,
      codeCampaign: r.code_campaign,
    }));
  }

  async close(): Promise<void> {
    try {
      await this.conn`discard temp`;
      await this.conn`reset timezone`;
    } finally {
      this.conn.release();
    }
  }
}
