import test from 'brittle'
import { mergePatch, type Json } from '../../core/index.js'

test('merge patch: diff then apply gives the new value; equal values give no patch', t => {
  const prev: Json = { a: 1, b: { c: 2, d: [1, 2], e: 'x' }, gone: true, keep: { deep: { x: 1 } } }
  const next: Json = { a: 1, b: { c: 3, d: [1, 2, 3] }, added: { y: null, z: 0 }, keep: { deep: { x: 1 } } }
  const patch = mergePatch.diff(prev, next)
  t.alike(patch, { b: { c: 3, d: [1, 2, 3], e: null }, gone: null, added: { z: 0 } }, 'only what changed; removed keys are null; nulls are not sent')
  t.alike(mergePatch.apply(prev, patch!), { a: 1, b: { c: 3, d: [1, 2, 3] }, added: { z: 0 }, keep: { deep: { x: 1 } } })
  t.is(mergePatch.diff(next, structuredClone(next)), undefined)
  t.is(mergePatch.diff({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), undefined, 'arrays compared deeply')
})

test('merge patch: a value that becomes null is removed; non-objects replace; apply does not change its input', t => {
  const prev = { ws: { w: { mount: '/m', state: 'mounted' } } }
  const patch = mergePatch.diff(prev, { ws: { w: { mount: null, state: 'idle' } } })
  t.alike(patch, { ws: { w: { mount: null, state: 'idle' } } })
  const out = mergePatch.apply(prev, patch!)
  t.alike(out, { ws: { w: { state: 'idle' } } }, 'absent and null are the same in a patched value')
  t.is(prev.ws.w.mount, '/m', 'the input is left as it was')
  t.alike(mergePatch.diff({ a: 1 }, [1, 2]), [1, 2])
  t.alike(mergePatch.apply({ a: 1 }, 'x'), 'x')
  t.alike(mergePatch.apply(undefined, { a: { b: 1 } }), { a: { b: 1 } })
})
