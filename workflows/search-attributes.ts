// Custom search attributes that let the Temporal Web UI filter campaigns. Registered by the
// embedded dev server at start; on a real cluster see README "Running on a real Temporal cluster".
export const SEARCH_ATTRIBUTES = {
  MailroomCampaign: 'Keyword',
  MailroomStatus: 'Keyword',
} as const;
