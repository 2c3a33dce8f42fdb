import { describe, expect, it } from 'vitest';
import { actionResult } from '../../src/cli/action-result.js';

const envelope = (info: unknown[]) => ({ error: { code: 'iLO.0.10.ExtendedInfo', message: 'See @Message.ExtendedInfo for more information.', '@Message.ExtendedInfo': info } });

describe('actionResult', () => {
  it('reads a success status carrying only iLO\'s message envelope as its messages', () => {
    expect(actionResult(200, envelope([{ MessageId: 'Base.1.18.Success' }]))).toEqual({ status: 200, messages: ['Base.1.18.Success'] });
    expect(actionResult(200, envelope([{ MessageId: 'iLO.2.15.ResetRequired', MessageArgs: ['x', 2] }, 'junk']))).toEqual({ status: 200, messages: ['iLO.2.15.ResetRequired (x, 2)'] });
  });

  it('leaves error statuses, resources and other shapes alone', () => {
    expect(actionResult(400, envelope([{ MessageId: 'Base.1.18.PropertyValueNotInList' }]))).toBeUndefined();
    expect(actionResult(200, { ...envelope([]), Id: '1' })).toBeUndefined();
    expect(actionResult(200, { error: { code: 'x' } })).toBeUndefined();
    expect(actionResult(200, { Id: '1' })).toBeUndefined();
    expect(actionResult(204, null)).toBeUndefined();
    expect(actionResult(200, 'text')).toBeUndefined();
  });
});
