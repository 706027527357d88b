/**
 * `make(key, arg)`, kept per key object as long as that object lives (a
 * WeakMap) and made again only when `arg` differs from the last one it was
 * made with. For values derived from objects never changed in place, such as
 * verified member records, which every peer of a process shares, and a small
 * companion that may change (the member's current admission).
 */
export function perObjectCache<K extends object, A, V>(make: (key: K, arg: A) => V): (key: K, arg: A) => V {
  const kept = new WeakMap<K, { arg: A; value: V }>();
  return (key, arg) => {
    const hit = kept.get(key);
    if (hit !== undefined && hit.arg === arg) return hit.value;
    const value = make(key, arg);
    kept.set(key, { arg, value });
    return value;
  };
}
