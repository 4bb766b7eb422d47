use super::*;

fn intent(text: &str, awaiting: bool) -> Intent {
    classify(&default_detectors(), text, awaiting)
}

#[test]
fn handoff_words_in_chinese_and_english_ask_for_a_person() {
    for text in ["转人工", "人工", "轉人工客服", "I want a human", "Talk to a person please", "AGENT"]
    {
        assert_eq!(intent(text, false), Intent::Handoff, "{text}");
    }
}

#[test]
fn latin_keywords_match_whole_words_only() {
    assert_eq!(intent("my agenda for the order", false), Intent::Question);
    assert_eq!(intent("Is there a humane way to return it", false), Intent::Question);
}

#[test]
fn complaints_go_to_a_person() {
    assert_eq!(intent("我要投诉你们", false), Intent::Complaint);
    assert_eq!(intent("this is a scam", true), Intent::Complaint);
}

#[test]
fn yes_and_no_count_only_while_the_bot_waits_for_feedback() {
    assert_eq!(intent("Yes!", true), Intent::Feedback(FeedbackAnswer::Yes));
    assert_eq!(intent("有用", true), Intent::Feedback(FeedbackAnswer::Yes));
    assert_eq!(intent("no.", true), Intent::Feedback(FeedbackAnswer::No));
    assert_eq!(intent("没用", true), Intent::Feedback(FeedbackAnswer::No));
    assert_eq!(intent("yes", false), Intent::Question);
    assert_eq!(intent("yes but how do I return the other one", true), Intent::Question);
}
