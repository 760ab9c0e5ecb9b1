//! A concurrent web crawler over a simulated link graph: each page fetch
//! runs on its own task with a per-request timeout, an `ErrGroup` limits
//! how many fetches run at once, and the first hard error cancels the
//! crawl through the group's context. (The Go tour's crawler exercise, the
//! way production Go writes it with `errgroup.SetLimit`.)
//!
//! Run with `cargo run --release --example crawler`.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gorun::sync::ErrGroup;
use gorun::Context;

/// A fake web: page `n` links to a few other pages; some pages are slow,
/// some are missing.
struct Web;

#[derive(Clone, Debug)]
enum FetchError {
    /// The page does not exist (a soft error: skipped).
    NotFound(u32),
    /// The site is down (a hard error: stops the crawl).
    SiteDown(u32),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::NotFound(p) => write!(f, "page {p} not found"),
            FetchError::SiteDown(p) => write!(f, "site down while fetching page {p}"),
        }
    }
}

impl std::error::Error for FetchError {}

impl Web {
    /// Fetches page `page`: its outgoing links, after a simulated latency.
    async fn fetch(&self, page: u32, down_at: Option<u32>) -> Result<Vec<u32>, FetchError> {
        let latency =
            Duration::from_millis(u64::from(page % 7) + if page % 97 == 0 { 200 } else { 1 });
        gorun::sleep(latency).await;
        if Some(page) == down_at {
            return Err(FetchError::SiteDown(page));
        }
        if page % 41 == 0 {
            return Err(FetchError::NotFound(page));
        }
        Ok((1..=3).map(|k| (page * 7 + k * 13) % 2_000).collect())
    }
}

/// The crawl's shared state.
#[derive(Default)]
struct Crawl {
    visited: Mutex<HashSet<u32>>,
    fetched: Mutex<u32>,
    timeouts: Mutex<u32>,
    missing: Mutex<u32>,
}

/// Visits `page` if nobody has, then its links, each as a new group task.
fn visit(
    group: Arc<ErrGroup<FetchError>>,
    ctx: Context,
    crawl: Arc<Crawl>,
    page: u32,
    depth: u32,
    down_at: Option<u32>,
) {
    if depth == 0 || !crawl.visited.lock().unwrap().insert(page) {
        return;
    }
    let group2 = group.clone();
    group.go(async move {
        // Stop early once the crawl is cancelled (a hard error elsewhere).
        if ctx.err().is_some() {
            return Ok(());
        }
        // A per-request timeout, as `context.WithTimeout(ctx, 50ms)`.
        let (request, _cancel) = ctx.with_timeout(Duration::from_millis(50));
        let links = match request.run(Web.fetch(page, down_at)).await {
            Err(_deadline_or_cancel) => {
                *crawl.timeouts.lock().unwrap() += 1;
                return Ok(());
            }
            Ok(Err(FetchError::NotFound(_))) => {
                *crawl.missing.lock().unwrap() += 1;
                return Ok(());
            }
            Ok(Err(hard)) => return Err(hard),
            Ok(Ok(links)) => links,
        };
        *crawl.fetched.lock().unwrap() += 1;
        for link in links {
            visit(
                group2.clone(),
                ctx.clone(),
                crawl.clone(),
                link,
                depth - 1,
                down_at,
            );
        }
        Ok(())
    });
}

/// Crawls from page 1 to `depth` with at most `limit` fetches at once.
async fn crawl(
    depth: u32,
    limit: usize,
    down_at: Option<u32>,
) -> (Result<(), FetchError>, Arc<Crawl>) {
    let (group, ctx) = ErrGroup::<FetchError>::with_context(&Context::background());
    group.set_limit(limit);
    let group = Arc::new(group);
    let crawl = Arc::new(Crawl::default());
    visit(group.clone(), ctx, crawl.clone(), 1, depth, down_at);
    let result = group.wait().await;
    (result, crawl)
}

fn main() {
    gorun::run(async {
        let start = Instant::now();
        let (result, stats) = crawl(8, 16, None).await;
        println!(
            "crawl to depth 8 with at most 16 fetches at once: {result:?} in {:?}",
            start.elapsed()
        );
        println!(
            "  visited {} pages: {} fetched, {} timed out (50 ms limit), {} not found",
            stats.visited.lock().unwrap().len(),
            stats.fetched.lock().unwrap(),
            stats.timeouts.lock().unwrap(),
            stats.missing.lock().unwrap()
        );

        let start = Instant::now();
        let (result, stats) = crawl(8, 16, Some(52)).await;
        println!(
            "\nthe same crawl with the site going down at page 52: {} after {:?}",
            result.unwrap_err(),
            start.elapsed()
        );
        println!(
            "  the first hard error cancelled the rest: {} pages fetched before it stopped",
            stats.fetched.lock().unwrap()
        );
    });
}
