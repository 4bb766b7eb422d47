//! Files sent in chat, end to end on both backends: a photo on a chat message is kept where
//! mail attachments are, listed on the message in the agent's ticket view and in the
//! customer's export, and deleted with the customer; files over a limit, too many, or not
//! the photo or PDF they claim to be are refused with a clear 413 or 400 and leave nothing.

use serde_json::{Value, json};

use crate::agent_scenarios::{ADMIN, SUPERVISOR};
use crate::privacy_scenarios::{base64_encode, first_link};
use crate::{Backend, INBOX, TestDesk, now, settle};

/// A file as a test sends it: name, content type, bytes.
pub type File<'a> = (&'a str, &'a str, &'a [u8]);

/// The start of a JPEG (SOI and a JFIF segment): what the desk checks a claimed JPEG by.
pub const PHOTO: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1];

/// A chat message body carrying `files` (name, content type, bytes) inline.
pub fn chat_body_with_files(
    message_id: &str,
    conversation: &str,
    visitor: &str,
    text: &str,
    files: &[File<'_>],
) -> String {
    let attachments: Vec<Value> = files
        .iter()
        .map(|(name, content_type, bytes)| {
            json!({ "name": name, "content_type": content_type, "data": base64_encode(bytes) })
        })
        .collect();
    json!({
        "message_id": message_id,
        "conversation_id": conversation,
        "visitor": { "id": visitor, "name": "Li Wei" },
        "text": text,
        "attachments": attachments,
    })
    .to_string()
}

impl TestDesk {
    /// Posts a correctly signed chat message with files; the status and answer.
    pub async fn send_chat_with_files(
        &self,
        message_id: &str,
        conversation: &str,
        visitor: &str,
        text: &str,
        files: &[File<'_>],
    ) -> (u16, Value) {
        let body = chat_body_with_files(message_id, conversation, visitor, text, files);
        self.post_chat(INBOX, body.as_bytes(), Some(now())).await
    }

    /// Every object under `attachments/` in the desk's file store.
    pub async fn stored_attachments(&self) -> Vec<String> {
        self.observe.blobs.list("attachments/").await.expect("list blobs")
    }

    /// The bytes behind a link: the local desk's own path, or an absolute (S3) URL.
    pub async fn link_bytes(&self, url: &str) -> (u16, Vec<u8>) {
        let url = if url.starts_with('/') { self.url(url) } else { url.to_owned() };
        let response = self.http.get(url).send().await.expect("link answers");
        let status = response.status().as_u16();
        (status, response.bytes().await.map(|b| b.to_vec()).unwrap_or_default())
    }
}

pub async fn chat_attachments_over_a_limit_too_many_or_of_a_refused_type_are_413_or_400_and_write_nothing(
    backend: &Backend,
) {
    let t = TestDesk::start(backend).await;
    let mut big = PHOTO.to_vec();
    big.resize(2 * 1024 * 1024 + 1, 0);
    let five: Vec<File<'_>> = (0..5).map(|_| ("lid.jpg", "image/jpeg", PHOTO)).collect();
    let cases: [(&str, Vec<File<'_>>, u16, &str); 5] = [
        ("oversize", vec![("lid.jpg", "image/jpeg", &big)], 413, "attachments[0]: over 2097152 bytes"),
        ("too many", five, 413, "at most 4"),
        (
            "a program",
            vec![("lid.jpg", "image/jpeg", PHOTO), ("setup.exe", "application/x-msdownload", b"MZ\x90\0")],
            400,
            "attachments[1]: content type \"application/x-msdownload\" is not accepted",
        ),
        (
            "a program called a photo",
            vec![("lid.jpg", "image/jpeg", b"MZ\x90\0")],
            400,
            "is not the image/jpeg",
        ),
        ("a photo called a program", vec![("lid.exe", "image/jpeg", PHOTO)], 400, "extension does not fit"),
    ];
    for (what, files, status, says) in cases {
        let (got, answer) = t.send_chat_with_files("m1", "conv-1", "visitor-1", "my parcel", &files).await;
        let code = if status == 413 { "too_large" } else { "bad_request" };
        assert_eq!((got, answer["error"]["code"].as_str()), (status, Some(code)), "{what}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{what}: {message:?} should say {says:?}");
    }
    settle(&t.backend).await;
    assert_eq!(t.depths().await.inbound.total(), 0, "nothing may be queued");
    assert!(t.ticket(1).await.is_none(), "no ticket may exist");
    assert!(t.stored_attachments().await.is_empty(), "no file may be kept");
}

pub async fn a_chat_customers_photos_are_in_their_export_and_erasing_them_deletes_the_files(
    backend: &Backend,
) {
    let t = TestDesk::start_staffed(backend).await;
    let files: [File<'_>; 1] = [("lid.jpg", "image/jpeg", PHOTO)];
    let (status, answer) = t.send_chat_with_files("m1", "conv-photo", "v-photo", "", &files).await;
    assert_eq!(status, 202, "a photo without a caption is a message: {answer}");
    t.wait_for_ticket(1).await;
    assert!(t.drained().await);
    assert_eq!(t.stored_attachments().await.len(), 1);

    let customer = t.get("/v1/customers?chat_inbox=web&chat_visitor=v-photo", ADMIN).await["id"]
        .as_str()
        .expect("the visitor's customer")
        .to_owned();
    let export = t.get(&format!("/v1/customers/{customer}/export"), SUPERVISOR).await;
    let link = first_link(&export);
    assert_eq!(t.link_bytes(&link).await, (200, PHOTO.to_vec()), "the export's link opens the photo");

    let job = t.erase(&customer).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["stores"]["blob_store"]["attachment"], 1, "{job}");
    assert!(t.stored_attachments().await.is_empty(), "the photo is gone from the store");
    assert_ne!(t.link_bytes(&link).await.0, 200, "a link taken before the erasure opens nothing");
}
