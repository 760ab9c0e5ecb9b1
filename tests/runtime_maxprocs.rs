//! `GORUN_MAXPROCS` sets the default number of workers. One test in this
//! file, because it changes the process environment.

use std::panic::catch_unwind;

#[test]
fn maxprocs_sets_the_default_worker_count_and_rejects_bad_values() {
    fn workers_of(rt: &gorun::Runtime) -> String {
        format!("{rt:?}")
    }

    std::env::set_var("GORUN_MAXPROCS", "3");
    let rt = gorun::Runtime::new().unwrap();
    assert!(workers_of(&rt).contains("workers: 3"), "{rt:?}");
    drop(rt);

    // An explicit count wins over the variable, as runtime.GOMAXPROCS(n)
    // wins over GOMAXPROCS.
    let rt = gorun::Runtime::builder().workers(1).build().unwrap();
    assert!(workers_of(&rt).contains("workers: 1"), "{rt:?}");
    drop(rt);

    for bad in ["0", "-2", "many", ""] {
        std::env::set_var("GORUN_MAXPROCS", bad);
        let payload = catch_unwind(gorun::Runtime::new).unwrap_err();
        let msg = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap();
        assert!(msg.contains("GORUN_MAXPROCS"), "{msg}");
        assert!(msg.contains("positive integer"), "{msg}");
    }
    std::env::remove_var("GORUN_MAXPROCS");
}
