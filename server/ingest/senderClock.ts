/**
 * When did the sender capture a frame, on the sender's own wall clock? Its RTCP sender reports pair an NTP time
 * with an RTP timestamp of the same clock (libwebrtc stamps RTP from the capture time), so any frame's RTP
 * timestamp maps to the sender's capture time. Sent back with the result, it lets a client measure capture to
 * drawn on one clock, with no clock sync between client and server.
 */

/** Seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

export class SenderClock {
  private ntpMs: number | null = null;
  private rtp = 0;

  constructor(private readonly clockRate = 90_000) {}

  /** A sender report's NTP timestamp (64-bit fixed point, seconds since 1900) and RTP timestamp. */
  onSenderReport(ntpTimestamp: bigint, rtpTimestamp: number): void {
    const seconds = Number(ntpTimestamp >> 32n), fraction = Number(ntpTimestamp & 0xffff_ffffn);
    // a sender without a wall clock sends 0: no mapping rather than one in 1900
    if (seconds === 0) return;
    this.ntpMs = (seconds - NTP_UNIX_OFFSET_S) * 1000 + (fraction / 2 ** 32) * 1000;
    this.rtp = rtpTimestamp >>> 0;
  }

  /** Unix ms of the frame with this RTP timestamp on the sender's clock; null before the first report. */
  captureTimeMs(rtpTimestamp: number): number | null {
    if (this.ntpMs === null) return null;
    // signed 32-bit difference: frames on either side of the report and across the timestamp's wrap
    const ticks = ((rtpTimestamp >>> 0) - this.rtp) | 0;
    return this.ntpMs + (ticks * 1000) / this.clockRate;
  }
}
