//! A route's handlers, one per method, found by indexing instead of searching.
//!
//! Each standard method has a slot holding the position of its handler, so finding the
//! handler for a request is one array read; `HEAD` falls back to `GET` by having its
//! slot filled with GET's handler unless HEAD has its own. Tokens outside the standard
//! set (`Method::Other`) are rare and searched for.

use std::rc::Rc;

use crate::handler::ErasedHandler;
use crate::method::Method;

/// How many methods have a slot.
const SLOTS: usize = 9;
/// HEAD's slot (see [`slot`]).
const HEAD_SLOT: usize = 1;

/// The handlers of one route, in the order they were added.
#[derive(Default)]
pub(crate) struct MethodHandlers {
    handlers: Vec<(Method, Rc<dyn ErasedHandler>)>,
    /// Per standard method, 1 + the position of its handler in `handlers`; 0 for none.
    slots: [u8; SLOTS],
}

/// The slot of a standard method.
fn slot(method: &Method) -> Option<usize> {
    Some(match method {
        Method::Get => 0,
        Method::Head => HEAD_SLOT,
        Method::Post => 2,
        Method::Put => 3,
        Method::Delete => 4,
        Method::Patch => 5,
        Method::Options => 6,
        Method::Connect => 7,
        Method::Trace => 8,
        Method::Other(_) => return None,
    })
}

impl MethodHandlers {
    /// Adds the handler for `method`, or gives the method back if it already has one.
    ///
    /// # Panics
    /// With more than 255 handlers on one route.
    pub(crate) fn add(
        &mut self,
        method: Method,
        handler: Rc<dyn ErasedHandler>,
    ) -> Result<(), Method> {
        if self.handlers.iter().any(|(m, _)| *m == method) {
            return Err(method);
        }
        let number = u8::try_from(self.handlers.len() + 1).expect("at most 255 methods per route");
        if let Some(at) = slot(&method) {
            self.slots[at] = number;
        }
        // GET serves HEAD too, unless HEAD has a handler of its own.
        let head_is_own = self.handlers.iter().any(|(m, _)| *m == Method::Head);
        if method == Method::Get && !head_is_own {
            self.slots[HEAD_SLOT] = number;
        }
        self.handlers.push((method, handler));
        Ok(())
    }

    /// The handler for `method`: its own, or GET's for HEAD.
    pub(crate) fn get(&self, method: &Method) -> Option<&Rc<dyn ErasedHandler>> {
        let Some(at) = slot(method) else {
            return self
                .handlers
                .iter()
                .find(|(m, _)| m == method)
                .map(|(_, h)| h);
        };
        let position = usize::from(self.slots[at]).checked_sub(1)?;
        self.handlers.get(position).map(|(_, h)| h)
    }

    /// The methods with a handler, in the order they were added.
    pub(crate) fn methods(&self) -> impl Iterator<Item = &Method> {
        self.handlers.iter().map(|(m, _)| m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::Erased;
    use crate::request::Request;

    fn handler() -> Rc<dyn ErasedHandler> {
        Rc::new(Erased::new(|_req: Request| async { "x" }))
    }

    fn same(a: Option<&Rc<dyn ErasedHandler>>, b: &Rc<dyn ErasedHandler>) -> bool {
        a.is_some_and(|a| Rc::ptr_eq(a, b))
    }

    #[test]
    fn head_falls_back_to_get_unless_it_has_its_own() {
        let (get, head) = (handler(), handler());
        let mut get_first = MethodHandlers::default();
        assert!(get_first.add(Method::Get, Rc::clone(&get)).is_ok());
        assert!(same(get_first.get(&Method::Head), &get));
        assert!(get_first.add(Method::Head, Rc::clone(&head)).is_ok());
        assert!(same(get_first.get(&Method::Head), &head));
        assert!(same(get_first.get(&Method::Get), &get));

        let mut head_first = MethodHandlers::default();
        head_first.add(Method::Head, Rc::clone(&head)).unwrap();
        head_first.add(Method::Get, Rc::clone(&get)).unwrap();
        assert!(same(head_first.get(&Method::Head), &head));
        assert!(same(head_first.get(&Method::Get), &get));
    }

    #[test]
    fn each_method_finds_its_own_handler_or_none() {
        let mut handlers = MethodHandlers::default();
        let post = handler();
        let purge = handler();
        handlers.add(Method::Post, Rc::clone(&post)).unwrap();
        handlers
            .add(Method::Other("PURGE".into()), Rc::clone(&purge))
            .unwrap();
        assert!(same(handlers.get(&Method::Post), &post));
        assert!(same(handlers.get(&Method::Other("PURGE".into())), &purge));
        assert!(handlers.get(&Method::Get).is_none());
        assert!(handlers.get(&Method::Head).is_none());
        assert!(handlers.get(&Method::Other("BREW".into())).is_none());
        assert!(
            handlers.add(Method::Post, handler()).is_err(),
            "a second POST is refused"
        );
        let methods: Vec<&str> = handlers.methods().map(Method::as_str).collect();
        assert_eq!(methods, ["POST", "PURGE"]);
    }
}
