import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * feedloop's custom search attributes, registered on the dev server at start-up so that the
 * Temporal UI and CLI can filter campaigns, e.g.
 *   temporal workflow list --query "FeedloopCampaignId = 'demo' AND FeedloopPhase = 'test'"
 */
export const CAMPAIGN_ID = defineSearchAttributeKey('FeedloopCampaignId', SearchAttributeType.KEYWORD);
export const ALGORITHM = defineSearchAttributeKey('FeedloopAlgorithm', SearchAttributeType.KEYWORD);
export const ITERATION = defineSearchAttributeKey('FeedloopIteration', SearchAttributeType.INT);
export const PHASE = defineSearchAttributeKey('FeedloopPhase', SearchAttributeType.KEYWORD);

/** Name -> type as the `temporal` CLI spells it (`--search-attribute NAME=TYPE`). */
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword' | 'Int'> = {
  [CAMPAIGN_ID.name]: 'Keyword',
  [ALGORITHM.name]: 'Keyword',
  [ITERATION.name]: 'Int',
  [PHASE.name]: 'Keyword',
};
