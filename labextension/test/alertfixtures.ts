/**
 * Alerts for the unit tests of the alert helpers and models.
 */
import { Alert } from '../src/client';

/** A drift-share alert of deployment `iris`, changed by `extra`. */
export function alert(
  id: string,
  status: string,
  firedAt: number,
  extra: Partial<Alert> = {}
): Alert {
  return {
    id,
    deployment: 'iris',
    rule_id: `rule-${id}`,
    kind: 'drift_share',
    status,
    message: '60% of columns drifted over 1h (a, b, c)',
    value: 0.6,
    threshold: 0.3,
    fired_at: firedAt,
    updated_at: firedAt,
    acknowledged_at: null,
    acknowledged_by: null,
    resolved_at: null,
    data: {},
    ...extra
  };
}
