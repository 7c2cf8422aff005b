/**
 * After the router's close frame, a peer that keeps sending is read no further once it passed
 * MAX_FRAMES_AFTER_CLOSE frames: nothing it sends costs a decode until `closeTimeoutMs` cuts it off.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { MAX_FRAMES_AFTER_CLOSE, WsConnection } from '../../packages/adapters/src/ws/ws-connection.js';

class FakeWs extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  paused = false;
  terminated = false;
  pause = vi.fn(() => {
    this.paused = true;
  });
  resume = vi.fn(() => {
    this.paused = false;
  });
  close = vi.fn();
  send = vi.fn();
  terminate = vi.fn(() => {
    this.terminated = true;
  });
}

describe('WsConnection after its close', () => {
  it('stops reading a peer that floods after the close, and cuts it off at closeTimeoutMs', () => {
    vi.useFakeTimers();
    try {
      const ws = new FakeWs();
      const conn = new WsConnection(ws as unknown as WebSocket, '127.0.0.1', 1_000);
      const received: string[] = [];
      conn.bind({ message: (t) => received.push(t), closed: () => {} });
      ws.emit('message', Buffer.from('before'));
      conn.close(4012, 'too fast');
      expect(ws.close).toHaveBeenCalledWith(4012, 'too fast');
      for (let i = 0; i < MAX_FRAMES_AFTER_CLOSE; i++) ws.emit('message', Buffer.from('x'));
      expect(ws.paused).toBe(false); // frames in flight when it closed are tolerated
      ws.emit('message', Buffer.from('one too many'));
      expect(ws.paused).toBe(true);
      expect(received).toEqual(['before']);
      vi.advanceTimersByTime(999);
      expect(ws.terminated).toBe(false);
      vi.advanceTimersByTime(1);
      expect(ws.terminated).toBe(true);
      expect(ws.resume).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });
});
