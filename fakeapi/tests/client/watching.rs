//! Watch streams: events, resume, 410 Gone with the watcher relisting, bookmarks, streaming
//! lists and timeouts.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher;
use petset_fakeapi::{Lasting, RequestFilter, Verb};
use serde_json::json;

use crate::{start, within};

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": {"app": "web"}}})).unwrap()
}

fn kind_and_name(e: &WatchEvent<ConfigMap>) -> (&'static str, String) {
    match e {
        WatchEvent::Added(o) => ("ADDED", o.metadata.name.clone().unwrap()),
        WatchEvent::Modified(o) => ("MODIFIED", o.metadata.name.clone().unwrap()),
        WatchEvent::Deleted(o) => ("DELETED", o.metadata.name.clone().unwrap()),
        WatchEvent::Bookmark(b) => ("BOOKMARK", b.metadata.resource_version.clone()),
        WatchEvent::Error(s) => ("ERROR", s.code.to_string()),
    }
}

/// The next event that is not a bookmark (watches allow bookmarks by default in kube).
async fn next_event<S>(stream: &mut S) -> (&'static str, String)
where
    S: futures::Stream<Item = Result<WatchEvent<ConfigMap>, kube::Error>> + Unpin,
{
    loop {
        let e = within("watch event", stream.try_next())
            .await
            .unwrap()
            .expect("stream ended");
        if !matches!(e, WatchEvent::Bookmark(_)) {
            return kind_and_name(&e);
        }
    }
}

#[tokio::test]
async fn watch_streams_added_modified_deleted() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &cm("before"))
        .await
        .unwrap();
    let mut stream = api
        .watch(&WatchParams::default().labels("app=web"), "0")
        .await
        .unwrap()
        .boxed();
    assert_eq!(next_event(&mut stream).await, ("ADDED", "before".into()));

    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    server
        .patch(
            "v1",
            "cm",
            Some("default"),
            "a",
            json!({"data": {"x": "1"}}),
        )
        .unwrap();
    // Not matching the selector: must not show up.
    server.create(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "namespace": "default"}})).unwrap();
    api.delete("a", &DeleteParams::default()).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(next_event(&mut stream).await);
    }
    assert_eq!(
        seen,
        [
            ("ADDED", "a".into()),
            ("MODIFIED", "a".into()),
            ("DELETED", "a".into())
        ]
    );
}

#[tokio::test]
async fn watch_resumes_from_a_resource_version() {
    let (_server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let a = api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let rv = a.metadata.resource_version.unwrap();
    api.create(&PostParams::default(), &cm("b")).await.unwrap();
    api.delete("a", &DeleteParams::default()).await.unwrap();
    let mut stream = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(next_event(&mut stream).await);
    }
    assert_eq!(seen, [("ADDED", "b".into()), ("DELETED", "a".into())]);
}

#[tokio::test]
async fn too_old_resource_version_is_gone() {
    let (server, client) = start().await;
    server.set_watch_history(3);
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let first = api.create(&PostParams::default(), &cm("c0")).await.unwrap();
    for i in 1..6 {
        api.create(&PostParams::default(), &cm(&format!("c{i}")))
            .await
            .unwrap();
    }
    let rv = first.metadata.resource_version.unwrap();
    let mut stream = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    assert_eq!(next_event(&mut stream).await, ("ERROR", "410".into()));
    assert!(
        within("stream end", stream.try_next())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn watcher_relists_after_gone() {
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let mut events = watcher(api.clone(), watcher::Config::default()).boxed();
    let mut next = async || {
        within("watcher event", events.next())
            .await
            .expect("watcher ended")
    };
    assert!(matches!(next().await, Ok(watcher::Event::Init)));
    assert!(matches!(next().await, Ok(watcher::Event::InitApply(_))));
    assert!(matches!(next().await, Ok(watcher::Event::InitDone)));
    let lists_before = server.request_count(Verb::List, "configmaps");

    // The next watch start is told its resourceVersion is gone; cutting the stream forces one.
    server.expire_watches(Lasting::Requests(1));
    server.cut_watches();
    server.create(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "default"}})).unwrap();
    let mut saw_gone = false;
    let mut relisted = Vec::new();
    loop {
        match next().await {
            Err(watcher::Error::WatchError(s)) if s.code == 410 => saw_gone = true,
            Ok(watcher::Event::InitApply(o)) => relisted.push(o.metadata.name.unwrap()),
            Ok(watcher::Event::InitDone) => break,
            _ => {}
        }
    }
    assert!(saw_gone);
    relisted.sort();
    assert_eq!(relisted, ["a", "b"]);
    assert!(server.request_count(Verb::List, "configmaps") > lists_before);
}

#[tokio::test]
async fn bookmarks_are_sent_when_allowed() {
    let (server, client) = start().await;
    server.set_bookmark_interval(Duration::from_millis(50));
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let rv = server.resource_version().to_string();
    let mut stream = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    let e = within("bookmark", stream.try_next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kind_and_name(&e), ("BOOKMARK", rv));
}

#[tokio::test]
async fn delayed_watch_events_arrive_in_order_after_bookmarks_that_do_not_claim_them() {
    let (server, client) = start().await;
    server.set_bookmark_interval(Duration::from_millis(20));
    server.delay_watch_events(
        RequestFilter::any().resource("configmaps"),
        Duration::from_secs(1),
    );
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let before = server.resource_version().to_string();
    let mut stream = api
        .watch(&WatchParams::default(), &before)
        .await
        .unwrap()
        .boxed();
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    api.create(&PostParams::default(), &cm("b")).await.unwrap();
    // Lists are not delayed: they already show what the watch holds back.
    let listed = api.list(&Default::default()).await.unwrap();
    assert_eq!(listed.items.len(), 2);

    // Bookmarks keep coming while the events are held, each claiming only what was sent.
    let mut bookmarks = Vec::new();
    let first = loop {
        let e = within("watch event", stream.try_next())
            .await
            .unwrap()
            .expect("stream ended");
        match kind_and_name(&e) {
            ("BOOKMARK", rv) => bookmarks.push(rv),
            other => break other,
        }
    };
    assert_eq!(first, ("ADDED", "a".into()));
    assert!(
        !bookmarks.is_empty(),
        "bookmarks came while events were held"
    );
    assert!(bookmarks.iter().all(|rv| *rv == before), "{bookmarks:?}");
    assert_eq!(next_event(&mut stream).await, ("ADDED", "b".into()));
}

#[tokio::test]
async fn by_default_a_write_is_answered_before_its_watch_event_arrives() {
    use futures::FutureExt;
    let (server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let from = server.resource_version();
    let params = WatchParams::default().disable_bookmarks();
    let mut stream = api.watch(&params, &from).await.unwrap().boxed();
    let mut answered_first = 0;
    for name in ["a", "b", "c"] {
        let created = api.create(&PostParams::default(), &cm(name)).await.unwrap();
        // Let every task the write woke run (the server's watch stream and both connections):
        // a server whose watches deliver at once has the event here by now, every time.
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        let early = stream.next().now_or_never();
        if early.is_none() {
            answered_first += 1;
        }
        let event = match early {
            Some(event) => event.transpose().unwrap(),
            None => within("watch event", stream.try_next()).await.unwrap(),
        };
        // The event comes, in order, at the resourceVersion the write was answered with.
        match event {
            Some(WatchEvent::Added(o)) => {
                assert_eq!(o.metadata.name.as_deref(), Some(name));
                assert_eq!(
                    o.metadata.resource_version,
                    created.metadata.resource_version
                );
            }
            other => panic!("expected ADDED {name}, got {other:?}"),
        }
    }
    // The lag is 5 ms at least, so only a machine that stalls this test's thread for longer
    // between the answer and the check lets an event through early; a server without lag
    // lets all three through.
    assert!(
        answered_first >= 2,
        "only {answered_first} of 3 writes were answered before their watch event"
    );
}

#[tokio::test]
async fn streaming_list_ends_initial_events_with_a_bookmark() {
    let (_server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let mut events = watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut got = Vec::new();
    loop {
        match within("watcher event", events.next())
            .await
            .unwrap()
            .unwrap()
        {
            watcher::Event::InitApply(o) => got.push(o.metadata.name.unwrap()),
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(got, ["a"]);
    api.create(&PostParams::default(), &cm("b")).await.unwrap();
    match within("watcher event", events.next())
        .await
        .unwrap()
        .unwrap()
    {
        watcher::Event::Apply(o) => assert_eq!(o.metadata.name.as_deref(), Some("b")),
        other => panic!("unexpected {other:?}"),
    }
}

// Paused time: the watch's timeout passes on the test's clock, not the machine's.
#[tokio::test(start_paused = true)]
async fn watches_end_at_their_timeout() {
    let (_server, client) = start().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let started = tokio::time::Instant::now();
    let mut stream = api
        .watch(&WatchParams::default().disable_bookmarks().timeout(1), "0")
        .await
        .unwrap()
        .boxed();
    assert!(
        within("stream end", stream.try_next())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(started.elapsed(), Duration::from_secs(1));
}

#[tokio::test]
async fn the_server_ends_a_watch_without_timeout_seconds_after_its_request_timeout() {
    let (server, client) = start().await;
    server.set_watch_request_timeout(Duration::from_millis(200));
    // kube always names a timeout (290 s by default); kubectl and other clients may not.
    let request = axum::http::Request::get("/api/v1/namespaces/default/configmaps?watch=true")
        .body(Vec::new())
        .unwrap();
    let body = within("the server to end the watch", client.request_text(request))
        .await
        .unwrap();
    // The watch started at the current state: the namespace has no config maps yet.
    assert_eq!(body, "");
}
