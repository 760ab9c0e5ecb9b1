//! `gorun::Context` values: typed keys, shadowing, and which derived
//! contexts keep them.

use gorun::Context;

#[derive(PartialEq)]
struct RequestId;

#[derive(PartialEq)]
struct User;

#[derive(PartialEq)]
struct Shard(u32);

#[test]
fn a_value_is_found_by_its_key() {
    let ctx = Context::background().with_value(RequestId, 42u64);
    assert_eq!(ctx.value::<u64>(&RequestId), Some(&42));
}

#[test]
fn background_has_no_values() {
    assert_eq!(Context::background().value::<u64>(&RequestId), None);
}

#[test]
fn the_innermost_value_wins() {
    let outer = Context::background().with_value(User, "gopher");
    let inner = outer.with_value(RequestId, 1u64).with_value(User, "ferris");
    assert_eq!(inner.value::<&str>(&User), Some(&"ferris"));
    assert_eq!(
        outer.value::<&str>(&User),
        Some(&"gopher"),
        "the parent is unchanged"
    );
}

#[test]
fn keys_of_different_types_do_not_collide() {
    // Two keys that would look alike as strings or integers.
    #[derive(PartialEq)]
    struct A(u32);
    #[derive(PartialEq)]
    struct B(u32);
    let ctx = Context::background()
        .with_value(A(1), "a")
        .with_value(B(1), "b");
    assert_eq!(ctx.value::<&str>(&A(1)), Some(&"a"));
    assert_eq!(ctx.value::<&str>(&B(1)), Some(&"b"));
    assert_eq!(
        ctx.value::<&str>(&1u32),
        None,
        "a bare u32 is yet another key type"
    );
}

#[test]
fn keys_of_one_type_are_compared_by_value() {
    let ctx = Context::background()
        .with_value(Shard(1), "one")
        .with_value(Shard(2), "two");
    assert_eq!(ctx.value::<&str>(&Shard(1)), Some(&"one"));
    assert_eq!(ctx.value::<&str>(&Shard(2)), Some(&"two"));
    assert_eq!(ctx.value::<&str>(&Shard(3)), None);
}

#[test]
fn the_innermost_matching_key_decides_even_if_its_value_has_another_type() {
    let ctx = Context::background()
        .with_value(User, String::from("gopher"))
        .with_value(User, 7u8);
    assert_eq!(ctx.value::<u8>(&User), Some(&7));
    assert_eq!(
        ctx.value::<String>(&User),
        None,
        "the outer String is shadowed, as Go's ctx.Value(k).(string) would fail"
    );
}

#[test]
fn values_survive_cancel_deadline_and_without_cancel() {
    let rt = gorun::Runtime::builder().workers(1).build().unwrap();
    rt.block_on(async {
        let base = Context::background().with_value(RequestId, 9u64);
        let (cancel_ctx, cancel) = base.with_cancel();
        let (deadline_ctx, _c) = cancel_ctx.with_timeout(std::time::Duration::from_secs(60));
        let detached = deadline_ctx.without_cancel();
        drop(cancel);
        for ctx in [&cancel_ctx, &deadline_ctx, &detached] {
            assert_eq!(ctx.value::<u64>(&RequestId), Some(&9));
        }
        assert!(detached.err().is_none());
    });
}

#[test]
fn a_value_context_is_done_with_its_parent() {
    let (ctx, cancel) = Context::background().with_cancel();
    let valued = ctx.with_value(User, ());
    cancel.cancel();
    assert_eq!(valued.err(), Some(gorun::ContextError::Canceled));
}

#[test]
fn a_long_value_chain_drops_without_overflowing_the_stack() {
    let mut ctx = Context::background();
    for i in 0..200_000u32 {
        ctx = ctx.with_value(Shard(i), i);
    }
    assert_eq!(ctx.value::<u32>(&Shard(0)), Some(&0));
    drop(ctx);
}
