//! The `tracing` feature: spawn events, poll spans, park/unpark events and
//! the budget event, seen by a minimal recording subscriber.
//!
//! Run with `cargo test --features tracing --test tracing`.
#![cfg(feature = "tracing")]

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// One line per span or event, e.g.
/// `span poll target=gorun::task level=TRACE task.id=7 spawn.location=tests/tracing.rs:1:2 thread=gorun-worker-0 `
/// or
/// `event target=gorun::coop level=DEBUG message="budget exhausted, yielding" in_task=7 thread=gorun-worker-1 `.
/// Every token ends with a space, so `" task.id=7 "` never matches 70.
type Records = Arc<Mutex<Vec<String>>>;

/// A subscriber that writes every span and event to `records`. Workers run
/// on their own threads, so it is installed as the global default.
struct Recorder {
    records: Records,
    next_id: AtomicU64,
    /// Open spans: their `task.id` field and reference count.
    spans: Mutex<HashMap<u64, (Option<u64>, usize)>>,
}

std::thread_local! {
    /// The spans entered on this thread, innermost last.
    static STACK: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Collects an event's or span's fields as text.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    fields: Vec<(&'static str, String)>,
}

impl Fields {
    fn task_id(&self) -> Option<u64> {
        self.fields
            .iter()
            .find(|(name, _)| *name == "task.id")
            .and_then(|(_, v)| v.parse().ok())
    }

    fn write_to(&self, out: &mut String) {
        if let Some(message) = &self.message {
            let _ = write!(out, "message=\"{message}\" ");
        }
        for (name, value) in &self.fields {
            let _ = write!(out, "{name}={value} ");
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = Some(format!("{value:?}"));
        } else {
            self.fields.push((field.name(), format!("{value:?}")));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.push((field.name(), value.to_string()));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.fields.push((field.name(), value.to_owned()));
        }
    }
}

fn thread_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("<unnamed>")
        .to_owned()
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let meta = attrs.metadata();
        let mut line = format!(
            "span {} target={} level={} ",
            meta.name(),
            meta.target(),
            meta.level()
        );
        fields.write_to(&mut line);
        let _ = write!(line, "thread={} ", thread_name());
        self.spans.lock().unwrap().insert(id, (fields.task_id(), 1));
        self.records.lock().unwrap().push(line);
        Id::from_u64(id)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        let parent = if event.is_contextual() {
            STACK.with(|s| s.borrow().last().copied())
        } else {
            event.parent().map(Id::into_u64)
        };
        let in_task = parent.and_then(|p| self.spans.lock().unwrap().get(&p).and_then(|s| s.0));
        let mut line = format!("event target={} level={} ", meta.target(), meta.level());
        fields.write_to(&mut line);
        match in_task {
            Some(id) => {
                let _ = write!(line, "in_task={id} ");
            }
            None => line.push_str("in_task=- "),
        }
        let _ = write!(line, "thread={} ", thread_name());
        self.records.lock().unwrap().push(line);
    }

    fn enter(&self, span: &Id) {
        STACK.with(|s| s.borrow_mut().push(span.into_u64()));
    }

    fn exit(&self, span: &Id) {
        STACK.with(|s| {
            let mut s = s.borrow_mut();
            if let Some(pos) = s.iter().rposition(|&id| id == span.into_u64()) {
                s.remove(pos);
            }
        });
    }

    fn clone_span(&self, span: &Id) -> Id {
        if let Some(s) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            s.1 += 1;
        }
        span.clone()
    }

    fn try_close(&self, span: Id) -> bool {
        let mut spans = self.spans.lock().unwrap();
        match spans.get_mut(&span.into_u64()) {
            Some(s) if s.1 > 1 => {
                s.1 -= 1;
                false
            }
            Some(_) => {
                spans.remove(&span.into_u64());
                true
            }
            None => false,
        }
    }
}

/// Installs the recorder as the global default (once per test binary) and
/// returns its records.
fn records() -> &'static Records {
    static RECORDS: OnceLock<Records> = OnceLock::new();
    RECORDS.get_or_init(|| {
        let records = Records::default();
        let recorder = Recorder {
            records: records.clone(),
            next_id: AtomicU64::new(1),
            spans: Mutex::new(HashMap::new()),
        };
        tracing::subscriber::set_global_default(recorder)
            .expect("no other global subscriber in this test binary");
        records
    })
}

/// The records that contain every one of `needles`.
fn matching(needles: &[&str]) -> Vec<String> {
    records()
        .lock()
        .unwrap()
        .iter()
        .filter(|r| needles.iter().all(|n| r.contains(n)))
        .cloned()
        .collect()
}

/// Waits up to 10 s for a record containing every one of `needles`.
fn wait_for(needles: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = matching(needles);
        if !found.is_empty() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no record matches {needles:?}; records:\n{}",
            records().lock().unwrap().join("\n")
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn runtime() -> gorun::Runtime {
    gorun::Runtime::builder().workers(2).build().unwrap()
}

#[test]
fn spawning_emits_a_spawn_event_with_the_task_id_and_location() {
    records();
    let rt = runtime();
    let handle = rt.spawn(async {});
    let id = handle.id().as_u64();
    let task = format!(" task.id={id} ");
    // The event is emitted by `spawn` itself, before it returns.
    let found = matching(&[
        "event target=gorun::task level=TRACE message=\"spawn\" ",
        &task,
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(" spawn.location=tests/tracing.rs:"),
        "{}",
        found[0]
    );
    rt.block_on(handle).unwrap();
}

#[test]
fn polling_a_task_emits_a_poll_span_with_the_task_id() {
    records();
    let rt = runtime();
    let handle = rt.spawn(async {});
    let id = handle.id().as_u64();
    rt.block_on(handle).unwrap();
    let found = matching(&[
        "span poll target=gorun::task level=TRACE ",
        &format!(" task.id={id} "),
    ]);
    assert!(!found.is_empty());
    assert!(
        found[0].contains(" spawn.location=tests/tracing.rs:"),
        "{}",
        found[0]
    );
    assert!(found[0].contains(" thread=gorun-worker-"), "{}", found[0]);
}

#[test]
fn events_a_task_emits_while_polled_are_inside_its_poll_span() {
    records();
    let rt = runtime();
    let handle = rt.spawn(async {
        tracing::info!(target: "tracing_test", "inside the task");
    });
    let id = handle.id().as_u64();
    rt.block_on(handle).unwrap();
    let found = matching(&[
        "event target=tracing_test ",
        "message=\"inside the task\" ",
        &format!(" in_task={id} "),
    ]);
    assert_eq!(found.len(), 1);
}

#[test]
fn an_idle_worker_emits_park_and_unpark_events() {
    records();
    let rt = gorun::Runtime::builder()
        .workers(2)
        .thread_name("trace-park")
        .build()
        .unwrap();
    // With nothing to run, the workers go to sleep.
    let parked = wait_for(&[
        "event target=gorun::worker level=TRACE message=\"park\" ",
        " thread=trace-park-",
    ]);
    let worker = if parked[0].contains(" worker=0 ") {
        "0"
    } else {
        "1"
    };
    assert!(
        parked[0].contains(&format!(" thread=trace-park-{worker} ")),
        "the worker field is the worker's index: {}",
        parked[0]
    );
    // New work wakes one of them.
    rt.block_on(rt.spawn(async {})).unwrap();
    wait_for(&[
        "event target=gorun::worker level=TRACE message=\"unpark\" ",
        " thread=trace-park-",
    ]);
}

#[test]
fn a_task_that_exhausts_its_budget_emits_a_budget_event() {
    records();
    let rt = gorun::Runtime::builder()
        .workers(2)
        .budget(16)
        .build()
        .unwrap();
    let handle = rt.spawn(async {
        for _ in 0..1000 {
            gorun::consume_budget().await;
        }
    });
    let id = handle.id().as_u64();
    rt.block_on(handle).unwrap();
    let found = matching(&[
        "event target=gorun::coop level=DEBUG message=\"budget exhausted, yielding\" ",
        &format!(" in_task={id} "),
    ]);
    // 1000 operations at 16 per poll: about 62 forced yields.
    assert!(found.len() >= 50, "{} budget events", found.len());
}
