/**
 * `make(key)`, computed once per key object and kept as long as that object
 * lives (a WeakMap). For values derived from objects never changed in place,
 * such as verified member records, which every peer of a process shares.
 */
export function oncePerObject<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const kept = new WeakMap<K, V>();
  return (key) => {
    let value = kept.get(key);
    if (value === undefined) {
      value = make(key);
      kept.set(key, value);
    }
    return value;
  };
}
