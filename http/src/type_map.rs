//! `TypeMap`: values keyed by type, for the handful of entries an application has
//! (state, exception handlers). A vector searched in order beats a hash map here, in
//! time and in code size.

use std::any::TypeId;

/// A small map from `TypeId` to `V`.
pub(crate) struct TypeMap<V> {
    entries: Vec<(TypeId, V)>,
}

impl<V> Default for TypeMap<V> {
    fn default() -> Self {
        TypeMap {
            entries: Vec::new(),
        }
    }
}

impl<V> TypeMap<V> {
    /// Sets the value for `key`, replacing any earlier one.
    pub(crate) fn insert(&mut self, key: TypeId, value: V) {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// The value for `key`.
    pub(crate) fn get(&self, key: &TypeId) -> Option<&V> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}
