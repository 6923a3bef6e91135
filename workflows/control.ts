import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CampaignStatus, IterationStatus } from '../common/campaign';

/**
 * The one set of message definitions every loop's workflows answer, so that the CLI, the UI and
 * scripts steer any campaign without knowing which loop it runs. Campaigns take pause, resume
 * and stop as updates (a refused one says why and changes nothing) and answer the status query;
 * the campaign forwards each request to its running iteration as a signal.
 */
export const pauseCampaignUpdate = defineUpdate<CampaignStatus>('pause');
export const resumeCampaignUpdate = defineUpdate<CampaignStatus>('resume');
export const stopCampaignUpdate = defineUpdate<CampaignStatus>('stop');
export const campaignStatusQuery = defineQuery<CampaignStatus>('status');

export const pauseIterationSignal = defineSignal('pause');
export const resumeIterationSignal = defineSignal('resume');
export const stopIterationSignal = defineSignal('stop');
export const iterationStatusQuery = defineQuery<IterationStatus>('status');
