import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** The demo runs once; each test reads its part of the output. */
let demoOutput: string | undefined;
const runDemo = (): string =>
  (demoOutput ??= execFileSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { encoding: 'utf8', timeout: 60_000 }));

describe('npm run demo', () => {
  it('INV5: plays the four plans and the X1 conflict, then refunds exactly once after a restart', () => {
    const output = runDemo();
    for (const heading of [
      '1. DIRECT_REFUND',
      '2. NEGOTIATED_REJECT',
      '3. WAIT_48H_INTERCEPT',
      '4. PLATFORM_RULING',
      '5. X1 conflict',
      '6. Restart',
    ]) {
      expect(output).toContain(heading);
    }
    expect(output).toContain('通过并拦截');
    expect(output).toContain('48H物流拦截退款纠纷方案');
    expect(output).toMatch(/ConflictingCancellationError/);
    // statuses read from the parallel order and its children, with the zh-CN labels next to them
    expect(output).toContain('awaitingCustomerConfirmation 待客户确认');
    expect(output).toContain('resolved 已解决');
    expect(output).toContain('logisticsFollowUp 物流待跟进');
    expect(output).toContain('closed|refunded');
    expect(output).toMatch(/refunds executed for order-1006\/dispute-1006:intercept-48h\/1: 1\n/);
    expect(output).not.toMatch(/INV1\/INV5 broken/);
    // R1: the merchant's own queue in Chinese, soonest deadline first, the one waiting on it with its timer
    expect(output).toMatch(
      /order-1006 +待客户确认 +已协商同意等待48H物流拦截 +客户确认时限 [\d-]+ [\d:]+ 到期\n +order-1007 +待商家选择方案 +— +商家处理时限/,
    );
    expect(output).toContain('待商家选择方案 1 单, 24 小时内到期 1 单, 共 7 单');
  });

  it('A1–A4: the appeal scenario, in Chinese labels: the window, the wrong side refused, 申诉中, one compensation, the refund stands', () => {
    const output = runDemo();
    const appeal = output.slice(output.indexOf('7. Appeal'));
    expect(appeal).toContain('pending: appealWindow (申诉期) due at +172:00');
    expect(appeal).toMatch(/✗ refused, nothing written \(NotAllowedInStateError\).*A1: only the side ruled against \(the merchant\) may appeal/);
    expect(appeal).toContain('ruled 已判责，申诉期内');
    expect(appeal).toMatch(/merchant\.rulingAppealed +open\|refunded +underAppeal 申诉中/);
    expect(appeal).toMatch(/platform\.appealOverturned +open\|refunded +compensating 平台补偿商家中/);
    expect(appeal).toMatch(/payment\.compensationSucceeded +closed\|refunded +resolved 已解决 +…:ruling-refund refunded 退款成功/);
    expect(appeal).toContain('compensations executed for order-1008/dispute-1008/compensation: 1\n');
    expect(appeal).toContain("refunds executed for order-1008: 1 (the customer's refund stands)");
  });
});
