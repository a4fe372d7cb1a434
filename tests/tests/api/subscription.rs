//! `catalogueChanges` over graphql-transport-ws: the same events as the feed, live.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    WebSocketStream, client_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::{feed::all_changes, helpers::*};

type Socket = WebSocketStream<TcpStream>;

pub(crate) async fn connect(app: &TestApp) -> Socket {
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let stream = TcpStream::connect(app.addr).await.unwrap();
    let (socket, response) = client_async(request, stream).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next JSON message, or `None` when the server closed the connection.
async fn receive(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("no message within 10 s")?;
        match message.ok()? {
            Message::Text(text) => return Some(serde_json::from_str(&text).unwrap()),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

pub(crate) async fn subscribe(socket: &mut Socket, init: Value, after: Option<&str>) {
    send(
        socket,
        json!({ "type": "connection_init", "payload": init }),
    )
    .await;
    assert_eq!(receive(socket).await.unwrap()["type"], "connection_ack");
    send(
        socket,
        json!({
            "id": "feed",
            "type": "subscribe",
            "payload": {
                "query": "subscription($after: String) { catalogueChanges(after: $after) { cursor entityType entityId operation payload } }",
                "variables": { "after": after },
            }
        }),
    )
    .await;
}

pub(crate) async fn next_event(socket: &mut Socket) -> Value {
    let message = receive(socket).await.expect("connection closed");
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(message["id"], "feed");
    message["payload"]["data"]["catalogueChanges"].clone()
}

backend_test!(live_changes_match_the_feed, |app| {
    let org = app.org("live", "SE").await;
    let token = publisher(org);
    let mut socket = connect(&app).await;
    subscribe(&mut socket, json!({}), None).await;
    // Give the subscription a moment to start from the current head.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let id = published_clause(&app, &token, clause_input("Announced live")).await;
    app.ok(
        Some(&token),
        "mutation($id: ID!) { withdrawClause(input: { id: $id, reason: \"Outdated\" }) { clause { id } } }",
        json!({ "id": id }),
    )
    .await;
    let published = next_event(&mut socket).await;
    let withdrawn = next_event(&mut socket).await;
    assert_eq!(published["entityId"], json!(id));
    assert_eq!(published["operation"], "UPSERT");
    assert_eq!(
        published["payload"]["versions"][0]["title"],
        "Announced live"
    );
    assert_eq!(withdrawn["operation"], "WITHDRAW");

    // Exactly what the feed says, in the same order.
    let (events, _) = all_changes(&app, None).await;
    let tail: Vec<Value> = events[events.len() - 2..]
        .iter()
        .map(|e| e["cursor"].clone())
        .collect();
    assert_eq!(
        tail,
        vec![published["cursor"].clone(), withdrawn["cursor"].clone()]
    );

    // A new subscription with a cursor replays from there, then goes on live.
    let mut replay = connect(&app).await;
    let first = events[0]["cursor"].as_str().unwrap();
    subscribe(
        &mut replay,
        json!({ "Authorization": format!("Bearer {token}") }),
        Some(first),
    )
    .await;
    for expected in &events[1..] {
        assert_eq!(next_event(&mut replay).await["cursor"], expected["cursor"]);
    }
});

backend_test!(a_bad_subscription_token_closes_the_connection, |app| {
    let mut socket = connect(&app).await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "Authorization": "Bearer not-a-token" } }),
    )
    .await;
    let answer = receive(&mut socket).await;
    assert!(
        answer.is_none()
            || answer
                .as_ref()
                .is_some_and(|m| m["type"] != "connection_ack"),
        "a bad token was acknowledged: {answer:?}"
    );
    // A bad cursor is a GraphQL error for that subscription only, naming the argument.
    let mut socket = connect(&app).await;
    subscribe(&mut socket, json!({}), Some("bogus")).await;
    let message = receive(&mut socket).await.unwrap();
    assert_eq!(message["type"], "next", "{message}");
    let error = &message["payload"]["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "after");
});
