//! Scoped-thread helpers: fork-join on `std::thread::scope`, a panic in a worker resumed on
//! the calling thread (so it is never swallowed).

/// Runs `here` on this thread and, when `parallel`, `there` on a scoped thread at the same
/// time (else after `here`); returns both results.
pub(crate) fn join<A, B: Send>(
    parallel: bool,
    here: impl FnOnce() -> A,
    there: impl FnOnce() -> B + Send,
) -> (A, B) {
    if !parallel {
        let a = here();
        return (a, there());
    }
    std::thread::scope(|s| {
        let b = s.spawn(there);
        let a = here();
        (a, b.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })
}

/// Runs `f` on every item, each on its own scoped thread, and returns the results in item
/// order.
pub(crate) fn map<T: Send, R: Send>(
    items: impl IntoIterator<Item = T>,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .into_iter()
            .map(|item| s.spawn(move || f(item)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn join_and_map_keep_order() {
        for parallel in [false, true] {
            assert_eq!(super::join(parallel, || 1, || "two"), (1, "two"));
        }
        assert_eq!(super::map(0..5u64, |i| i * i), vec![0, 1, 4, 9, 16]);
        let mut slots = vec![0u32; 4];
        super::map(slots.iter_mut().enumerate(), |(i, s)| *s = i as u32 + 1);
        assert_eq!(slots, [1, 2, 3, 4]);
    }

    #[test]
    fn a_worker_panic_reaches_the_caller() {
        let r =
            std::panic::catch_unwind(|| super::join(true, || 1, || -> u32 { panic!("worker") }));
        assert!(r.is_err());
        let r = std::panic::catch_unwind(|| {
            super::map([1, 2], |i: u32| if i == 2 { panic!("worker") } else { i })
        });
        assert!(r.is_err());
    }
}
