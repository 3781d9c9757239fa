/**
 * The client's view of a daemon's watch stream (protocol: cli/messages.ts;
 * only its types are imported here). reduce() is pure: a view and one reply
 * give the next view. `wxs top`, `wxs top --once` and `wxs events` all keep
 * their view with it.
 */
import { mergePatch, type Json } from '../../core/index.js'
import type { WatchEvent, WatchReply, WatchState } from '../../cli/messages.js'

/** Events a view keeps (the dashboard's log pane shows the last ones). */
export const VIEW_EVENTS = 200
/** Heartbeats missed before a view counts as stale. */
const STALE_BEATS = 3

export interface WatchView {
  state: WatchState | null
  /** The id of the last event reflected (state) or received. */
  lastEvent: number
  events: WatchEvent[]
  /** When anything was last heard (ms). */
  heard: number
  /** Times the daemon said events were lost (the view was read afresh after each). */
  gaps: number
}

export function initialView (now = Date.now()): WatchView {
  return { state: null, lastEvent: 0, events: [], heard: now, gaps: 0 }
}

export function reduce (view: WatchView, reply: WatchReply, now = Date.now()): WatchView {
  switch (reply.type) {
    case 'state':
      return { ...view, state: reply.state, lastEvent: Math.max(reply.event, view.state?.daemon.run === reply.state.daemon.run ? view.lastEvent : 0), heard: now }
    case 'patch':
      if (view.state === null) return { ...view, heard: now } // a patch before any state: nothing to apply it to
      return { ...view, state: mergePatch.apply(view.state as unknown as Json, reply.patch as Json) as unknown as WatchState, heard: now }
    case 'event': {
      if (view.events.some(e => e.id === reply.event.id)) return { ...view, heard: now }
      const events = [...view.events, reply.event].slice(-VIEW_EVENTS)
      return { ...view, events, lastEvent: Math.max(view.lastEvent, reply.event.id), heard: now }
    }
    case 'gap':
      // what happened in between is lost: the state that follows is the truth
      return { ...view, state: null, gaps: view.gaps + 1, heard: now }
    case 'heartbeat':
      return { ...view, heard: now }
  }
}

/** Whether the daemon has been silent for longer than its heartbeats allow. */
export function isStale (view: WatchView, now: number, heartbeatMs = 2000): boolean {
  return now - view.heard > STALE_BEATS * heartbeatMs
}
