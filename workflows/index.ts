// The workflows the worker registers. Deterministic orchestration only: no I/O, no Node APIs.
export { stackCheckWorkflow } from './stack-check.ts';
export { campaignWorkflow } from './campaign.ts';
export { recurringCampaignWorkflow } from './recurring.ts';
