//! The script objects behind the resources a component exports.
//!
//! A resource the component exports is, to the component model, a rep (a
//! number) the interpreter chooses; to the script it is an object. Every
//! interpreter needs the same table between the two, with reps that stay
//! valid until the resource's destructor runs, so the SDK keeps it.

use std::cell::RefCell;

use crate::{Own, Resource};

/// The objects behind this component's exported resources, each under its
/// rep from [`Objects::export`] until [`Objects::remove`] (called from
/// [`Interpreter::resource_dtor`](crate::Interpreter::resource_dtor)).
///
/// Reps start at 1; a removed object's rep is used again. An emptied table
/// frees its memory, so that it holds none whenever no resource is alive
/// (which leak checks at quiescent points rely on).
pub struct Objects<T> {
    slots: RefCell<Slots<T>>,
}

struct Slots<T> {
    /// The object under rep `i + 1`.
    objects: Vec<Option<T>>,
    /// Indexes of empty slots.
    free: Vec<usize>,
}

impl<T> Default for Objects<T> {
    fn default() -> Self {
        Objects {
            slots: RefCell::new(Slots {
                objects: Vec::new(),
                free: Vec::new(),
            }),
        }
    }
}

impl<T> Objects<T> {
    /// Keeps `object` under a fresh rep and creates an owned handle of `ty`
    /// for it; `None`, keeping nothing, when the component does not export
    /// `ty`.
    pub fn export(&self, ty: Resource, object: T) -> Option<Own> {
        if !ty.is_exported() {
            return None;
        }
        let rep = {
            let mut slots = self.slots.borrow_mut();
            let index = match slots.free.pop() {
                Some(index) => {
                    slots.objects[index] = Some(object);
                    index
                }
                None => {
                    slots.objects.push(Some(object));
                    slots.objects.len() - 1
                }
            };
            index + 1
        };
        ty.new_own(rep)
    }

    /// Forgets the object under `rep` and returns it. The caller drops it,
    /// with no borrow of the table held, so that its own drop may reach
    /// this table again.
    pub fn remove(&self, rep: usize) -> Option<T> {
        let mut slots = self.slots.borrow_mut();
        let index = rep.checked_sub(1)?;
        let object = slots.objects.get_mut(index)?.take()?;
        slots.free.push(index);
        if slots.free.len() == slots.objects.len() {
            slots.objects = Vec::new();
            slots.free = Vec::new();
        }
        Some(object)
    }

    /// How many objects are kept.
    pub fn len(&self) -> usize {
        let slots = self.slots.borrow();
        slots.objects.len() - slots.free.len()
    }

    /// Whether no object is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: Clone> Objects<T> {
    /// The object under `rep` (as [`Own::rep`] or
    /// [`Borrow::rep`](crate::Borrow::rep) give it), if any: a clone, so
    /// that no borrow of the table outlives the call.
    pub fn get(&self, rep: usize) -> Option<T> {
        let slots = self.slots.borrow();
        slots.objects.get(rep.checked_sub(1)?)?.clone()
    }
}
