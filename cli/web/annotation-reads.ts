import { createHmac, randomBytes } from 'node:crypto';
import type pg from 'pg';

/**
 * What the annotator web app reads from PostgreSQL (the cRLHF loop's tables, migration 006).
 * Writes never happen here: a submission goes to the iteration workflow as a Temporal update.
 *
 * Items are shown under an opaque reference, an HMAC of (campaign, iteration, item, annotator)
 * with a key the server draws at start, so an item's id (which may say "honeypot") never
 * reaches the browser, and two annotators never see the same reference for the same item.
 */
export interface AssignedItem {
  ref: string;
  itemId: string;
  answered: boolean;
}

/** What the browser may see of an item: no id, no honeypot flag, no known labels, no one else's labels. */
export interface ItemView {
  ref: string;
  iteration: number;
  prompt: string;
  program: string;
  lineCount: number;
  language: string;
  testOutput: string | null;
  answered: boolean;
  /** this annotator's own submission, when answered */
  ownLabels?: string[];
}

export interface IterationOverview {
  iteration: number;
  phase: string;
  status: string;
  items: number;
  honeypots: number;
  assignments: number;
  labels: number;
  perAnnotator: Array<{ annotator: string; assigned: number; answered: number; reliability: number | null; honeypotAccuracy: number | null; honeypotLines: number | null }>;
}

export function annotationReads(pool: pg.Pool, refKey: Buffer = randomBytes(32)) {
  const refOf = (campaignId: string, iteration: number, itemId: string, annotator: string) =>
    createHmac('sha256', refKey).update(JSON.stringify([campaignId, iteration, itemId, annotator])).digest('base64url').slice(0, 22);

  async function assignments(campaignId: string, iteration: number, annotator?: string): Promise<Array<AssignedItem & { annotator: string }>> {
    const { rows } = await pool.query<{ item_id: string; annotator: string; answered: boolean }>(
      `select a.item_id, a.annotator, l.item_id is not null as answered
       from crowd_assignments a
       left join crowd_labels l using (campaign_id, iteration, item_id, annotator)
       where a.campaign_id = $1 and a.iteration = $2 and ($3::text is null or a.annotator = $3)
       -- a per-annotator order that says nothing about an item's kind
       order by md5(a.item_id || '/' || a.annotator), a.item_id`,
      [campaignId, iteration, annotator ?? null],
    );
    return rows.map((r) => ({ ref: refOf(campaignId, iteration, r.item_id, r.annotator), itemId: r.item_id, annotator: r.annotator, answered: r.answered }));
  }

  return {
    /** The iteration of a campaign that is waiting for annotations now, if any. */
    async currentAnnotateIteration(campaignId: string): Promise<number | undefined> {
      const { rows } = await pool.query<{ iteration: number }>(
        `select iteration from campaign_iterations where campaign_id = $1 and phase = 'annotate' and status = 'running' order by iteration desc limit 1`,
        [campaignId],
      );
      return rows[0]?.iteration;
    },

    /** The latest iteration of a campaign that had annotation items (open or since closed). */
    async latestAnnotatedIteration(campaignId: string): Promise<number | undefined> {
      const { rows } = await pool.query<{ iteration: number | null }>(`select max(iteration) as iteration from crowd_items where campaign_id = $1`, [campaignId]);
      return rows[0]?.iteration ?? undefined;
    },

    /** The campaign's display settings: whether annotators see test output, and the programs' language. */
    async campaignView(campaignId: string): Promise<{ showTestOutput: boolean; language: string } | undefined> {
      const { rows } = await pool.query<{ crowd: { showTestOutput?: unknown } | null }>(`select config->'crowd' as crowd from campaigns where id = $1`, [campaignId]);
      if (rows.length === 0) return undefined;
      // crowd.showTestOutput defaults to true (loops/crlhf/config.ts); the loop stores no output when it is false
      return { showTestOutput: rows[0]!.crowd?.showTestOutput !== false, language: 'python' };
    },

    /** This annotator's items in an iteration, in the order they are offered. */
    async assignedTo(campaignId: string, iteration: number, annotator: string): Promise<AssignedItem[]> {
      return assignments(campaignId, iteration, annotator);
    },

    /**
     * Resolves a reference for an annotator: their own item, or `other` when it names an item
     * assigned to someone else (the server answers 403), or undefined when it names nothing.
     */
    async resolveRef(campaignId: string, iteration: number, annotator: string, ref: string): Promise<{ own: AssignedItem } | { other: true } | undefined> {
      const all = await assignments(campaignId, iteration);
      const hit = all.find((a) => a.ref === ref);
      if (!hit) return undefined;
      return hit.annotator === annotator ? { own: hit } : { other: true };
    },

    async itemView(campaignId: string, iteration: number, annotator: string, item: AssignedItem, showTestOutput: boolean, language: string): Promise<ItemView> {
      const { rows } = await pool.query<{ prompt: string; program: string; line_count: number; test_output: string | null; own_labels: string[] | null }>(
        `select i.prompt, i.program, i.line_count, i.test_output, l.labels as own_labels
         from crowd_items i
         left join crowd_labels l on l.campaign_id = i.campaign_id and l.iteration = i.iteration and l.item_id = i.item_id and l.annotator = $4
         where i.campaign_id = $1 and i.iteration = $2 and i.item_id = $3`,
        [campaignId, iteration, item.itemId, annotator],
      );
      const r = rows[0]!;
      return {
        ref: item.ref,
        iteration,
        prompt: r.prompt,
        program: r.program,
        lineCount: r.line_count,
        language,
        testOutput: showTestOutput ? r.test_output : null,
        answered: item.answered || r.own_labels !== null,
        ...(r.own_labels ? { ownLabels: r.own_labels } : {}),
      };
    },

    /** The owner's view: every iteration's counts, per annotator, with reliability once estimated. */
    async overview(campaignId: string): Promise<IterationOverview[]> {
      const its = await pool.query<{ iteration: number; phase: string; status: string; items: string; honeypots: string; assignments: string; labels: string }>(
        `select ci.iteration, ci.phase, ci.status,
                (select count(*) from crowd_items i where i.campaign_id = ci.campaign_id and i.iteration = ci.iteration) as items,
                (select count(*) from crowd_items i where i.campaign_id = ci.campaign_id and i.iteration = ci.iteration and i.is_honeypot) as honeypots,
                (select count(*) from crowd_assignments a where a.campaign_id = ci.campaign_id and a.iteration = ci.iteration) as assignments,
                (select count(*) from crowd_labels l where l.campaign_id = ci.campaign_id and l.iteration = ci.iteration) as labels
         from campaign_iterations ci where ci.campaign_id = $1 order by ci.iteration`,
        [campaignId],
      );
      const per = await pool.query<{ iteration: number; annotator: string; assigned: string; answered: string; estimated: number | null; honeypot_accuracy: number | null; honeypot_lines: number | null }>(
        `with counts as (
           select a.iteration, a.annotator, count(*) as assigned, count(l.item_id) as answered
           from crowd_assignments a left join crowd_labels l using (campaign_id, iteration, item_id, annotator)
           where a.campaign_id = $1 group by a.iteration, a.annotator)
         select c.iteration, c.annotator, c.assigned, c.answered, r.estimated, r.honeypot_accuracy, r.honeypot_lines
         from counts c left join crowd_reliability r on r.campaign_id = $1 and r.iteration = c.iteration and r.annotator = c.annotator
         order by c.iteration, c.annotator`,
        [campaignId],
      );
      return its.rows.map((it) => ({
        iteration: it.iteration,
        phase: it.phase,
        status: it.status,
        items: Number(it.items),
        honeypots: Number(it.honeypots),
        assignments: Number(it.assignments),
        labels: Number(it.labels),
        perAnnotator: per.rows
          .filter((p) => p.iteration === it.iteration)
          .map((p) => ({ annotator: p.annotator, assigned: Number(p.assigned), answered: Number(p.answered), reliability: p.estimated, honeypotAccuracy: p.honeypot_accuracy, honeypotLines: p.honeypot_lines })),
      }));
    },
  };
}
export type AnnotationReads = ReturnType<typeof annotationReads>;
