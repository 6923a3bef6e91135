import { parseIlfCampaignConfig, readCampaignFile, type IlfCampaignConfig } from './campaign-config';
import { ConfigError } from './config';
import { parseRlaifCampaignConfig, type RlaifCampaignConfig } from './rlaif-config';

/** Any campaign config, told apart by its `algorithm` field. */
export type AnyCampaignConfig = IlfCampaignConfig | RlaifCampaignConfig;

export const CAMPAIGN_ALGORITHMS = ['ilf', 'rlaif'] as const;

export function parseCampaignConfig(raw: unknown, where = ''): AnyCampaignConfig {
  const algorithm = raw && typeof raw === 'object' ? (raw as { algorithm?: unknown }).algorithm : undefined;
  if (algorithm === 'ilf') return parseIlfCampaignConfig(raw, where);
  if (algorithm === 'rlaif') return parseRlaifCampaignConfig(raw, where);
  throw new ConfigError(
    `invalid campaign config${where ? ` ${where}` : ''}:\n  algorithm: must be one of ${CAMPAIGN_ALGORITHMS.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(algorithm ?? null)}`,
  );
}

/** Reads and validates a campaign file of any algorithm. */
export function loadCampaignConfig(file: string): AnyCampaignConfig {
  return parseCampaignConfig(readCampaignFile(file), file);
}
