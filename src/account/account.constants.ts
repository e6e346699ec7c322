/** Injection token of the resolved account options. */
export const ACCOUNT_OPTIONS = Symbol('ACCOUNT_OPTIONS');

/**
 * The account management actions of MSC4191 the page answers (`?action=`): the final names and the
 * MSC2965 names that clients still send, mapped to what the page does.
 */
export const ACCOUNT_ACTIONS = {
  'org.matrix.sessions_list': 'list',
  'org.matrix.devices_list': 'list',
  'org.matrix.session_view': 'view',
  'org.matrix.device_view': 'view',
  'org.matrix.session_end': 'end',
  'org.matrix.device_delete': 'end',
  'org.matrix.account_deactivate': 'deactivate',
} as const;

export type AccountAction = (typeof ACCOUNT_ACTIONS)[keyof typeof ACCOUNT_ACTIONS];
