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

fn with_orders(text: &str) -> Intent {
    let mut detectors = default_detectors();
    detectors.push(Box::new(OrderStatus::new(crate::orders::OrderPatterns::default())));
    classify(&detectors, text, false)
}

#[test]
fn my_parcel_asks_for_order_status_only_with_a_word_of_where_or_when() {
    for text in
        ["My package still isn't here yet", "when will my parcel arrive?", "我的包裹在哪", "我的快递还没到"]
    {
        assert_eq!(with_orders(text), Intent::Named(ORDER_STATUS), "{text}");
    }
    for text in
        ["a sock is missing from my parcel", "can I change the address of my delivery", "我的快递盒子破了"]
    {
        assert_eq!(with_orders(text), Intent::Question, "{text}");
    }
    assert_eq!(with_orders("order #20431 please"), Intent::Named(ORDER_STATUS));
}

#[test]
fn an_order_number_beside_another_question_is_that_question_not_order_status() {
    for text in [
        "changed my mind dont want it anymore, order #77412",
        "can i cancel order 77120 before it ships",
        "订单号20221107 不想要了 取消",
        "少发了一件 订单号3345",
    ] {
        assert_eq!(with_orders(text), Intent::Question, "{text}");
    }
    // The number alone, politely, or with a word of where or when: its status.
    for text in [
        "#1005",
        "order #20431 please",
        "订单号 20431",
        "where is order #1001?",
        "has order 1001 arrived yet?",
    ] {
        assert_eq!(with_orders(text), Intent::Named(ORDER_STATUS), "{text}");
    }
}

#[test]
fn rude_slow_or_disappointing_service_is_a_complaint() {
    for text in [
        "your driver was really rude to my mum",
        "Terrible service.",
        "客服态度差",
        "等了两天都没人回",
        "太失望了",
    ] {
        assert_eq!(intent(text, false), Intent::Complaint, "{text}");
    }
}

#[test]
fn asking_for_a_manager_or_a_call_back_goes_to_a_person() {
    for text in [
        "I want to speak to your manager",
        "please call me on my mobile",
        "找你们主管",
        "请给我回电",
        "hello, is anyone there?",
        "你是机器人吗",
    ] {
        assert_eq!(intent(text, false), Intent::Handoff, "{text}");
    }
}
