//! A deterministic corpus of realistic raw customer emails for the email benchmark: what an
//! e-commerce support mailbox receives. From a seed, N mails of these kinds:
//!
//! - `plain`: text/plain, quoted-printable (orders, parcels, refunds, with signatures);
//! - `html`: multipart/alternative, text and an HTML part with an order table (QP);
//! - `chinese`: text/plain UTF-8 in base64, RFC 2047 subject and display name;
//! - `chinese_html`: multipart/alternative, UTF-8 quoted-printable, RFC 2047 headers;
//! - `attachment`: multipart/mixed with a few KB of PDF or photo in base64;
//! - `large`: multipart/mixed with one or two photos of 100–300 KB;
//! - `gmail_reply`, `outlook_reply`, `chinese_reply`: replies in an earlier mail's thread
//!   (In-Reply-To and References name earlier generated Message-IDs), quoting the history in
//!   Gmail's nested style, Outlook's "-----Original Message-----" style, or a Chinese client's.
//!
//! Sizes run 1–50 KB, a few larger. No crates: a SplitMix64 generator and hand-written
//! base64, quoted-printable and RFC 2047 encoders.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::tz::{TimeZone, offset};

/// The desk's mailbox the corpus writes to.
pub const DESK_ADDRESS: &str = "support@desk.example";

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, good enough for test data.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In `0..n` (`0` when `n` is 0); the modulo bias is irrelevant here.
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// In `lo..hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi.saturating_sub(lo))
    }

    /// In `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Log-uniform in `lo..hi`: many small values, some large, as mail sizes are.
    pub fn log_size(&mut self, lo: usize, hi: usize) -> usize {
        let (lo, hi) = (lo as f64, hi as f64);
        (lo * (hi / lo).powf(self.unit())) as usize
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(n);
        out
    }

    pub fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }

    pub fn alnum(&mut self, n: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n).map(|_| char::from(*self.pick(CHARS))).collect()
    }

    pub fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b"0123456789abcdef"[self.below(16)])).collect()
    }
}

/// What a generated mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Plain,
    Html,
    Chinese,
    ChineseHtml,
    Attachment,
    Large,
    GmailReply,
    OutlookReply,
    ChineseReply,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Plain,
        Kind::Html,
        Kind::Chinese,
        Kind::ChineseHtml,
        Kind::Attachment,
        Kind::Large,
        Kind::GmailReply,
        Kind::OutlookReply,
        Kind::ChineseReply,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Plain => "plain",
            Kind::Html => "html",
            Kind::Chinese => "chinese",
            Kind::ChineseHtml => "chinese_html",
            Kind::Attachment => "attachment",
            Kind::Large => "large",
            Kind::GmailReply => "gmail_reply",
            Kind::OutlookReply => "outlook_reply",
            Kind::ChineseReply => "chinese_reply",
        }
    }

    /// A reply in the thread of an earlier mail of the corpus.
    pub fn is_reply(self) -> bool {
        matches!(self, Kind::GmailReply | Kind::OutlookReply | Kind::ChineseReply)
    }
}

#[derive(Debug, Clone)]
pub struct GeneratedMail {
    pub kind: Kind,
    /// Without angle brackets.
    pub message_id: String,
    /// The earlier mail of the corpus this one answers.
    pub in_reply_to: Option<String>,
    /// Attachments it carries.
    pub attachments: usize,
    pub raw: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Corpus {
    pub seed: u64,
    pub mails: Vec<GeneratedMail>,
}

impl Corpus {
    /// `count` mails from `seed`: the same seed gives the same bytes.
    pub fn generate(count: usize, seed: u64) -> Self {
        let mut generator = Generator::new(count, seed);
        let mails = (0..count).map(|i| generator.mail(i)).collect();
        Self { seed, mails }
    }

    pub fn total_bytes(&self) -> usize {
        self.mails.iter().map(|m| m.raw.len()).sum()
    }

    pub fn counts(&self) -> BTreeMap<Kind, usize> {
        let mut counts = BTreeMap::new();
        for mail in &self.mails {
            *counts.entry(mail.kind).or_insert(0) += 1;
        }
        counts
    }

    pub fn replies(&self) -> usize {
        self.mails.iter().filter(|m| m.kind.is_reply()).count()
    }

    /// Sizes in bytes, sorted.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes: Vec<usize> = self.mails.iter().map(|m| m.raw.len()).collect();
        sizes.sort_unstable();
        sizes
    }

    /// One paragraph saying what the corpus holds.
    pub fn describe(&self) -> String {
        let sizes = self.sizes();
        let at =
            |p: f64| sizes.get(((sizes.len().max(1) - 1) as f64 * p).round() as usize).copied().unwrap_or(0);
        let kinds: Vec<String> =
            self.counts().iter().map(|(kind, n)| format!("{} {n}", kind.name())).collect();
        let attachments: usize = self.mails.iter().map(|m| m.attachments).sum();
        format!(
            "{} mails (seed {:#x}), {:.1} MB: {}; {} replies in threads, {} attachments; \
             size p50 {:.1} KB, p90 {:.1} KB, max {:.1} KB",
            self.mails.len(),
            self.seed,
            self.total_bytes() as f64 / 1e6,
            kinds.join(", "),
            self.replies(),
            attachments,
            at(0.5) as f64 / 1024.0,
            at(0.9) as f64 / 1024.0,
            sizes.last().copied().unwrap_or(0) as f64 / 1024.0,
        )
    }
}

// --- people and content ----------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Customer {
    /// Display name as written (Chinese characters for Chinese customers).
    name: String,
    first: String,
    address: String,
    chinese: bool,
}

const EN_FIRST: [&str; 16] = [
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Lucas",
    "Mia",
    "Ethan",
    "Sophia",
    "Mason",
    "Isabella",
    "James",
    "Amelia",
    "Benjamin",
    "Charlotte",
    "Daniel",
];
const EN_LAST: [&str; 14] = [
    "Johnson", "Smith", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Taylor", "Anderson", "Thomas",
    "Moore", "Martin", "Clark", "Lewis",
];
const EN_DOMAINS: [&str; 5] =
    ["mail.example.com", "example.org", "inbox.example.net", "post.example.co.uk", "example.com.au"];
const ZH_SURNAMES: [(&str, &str); 12] = [
    ("张", "zhang"),
    ("王", "wang"),
    ("李", "li"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("赵", "zhao"),
    ("黄", "huang"),
    ("周", "zhou"),
    ("吴", "wu"),
    ("徐", "xu"),
    ("孙", "sun"),
];
const ZH_GIVEN: [(&str, &str); 14] = [
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("磊", "lei"),
    ("洋", "yang"),
    ("艳", "yan"),
    ("勇", "yong"),
    ("杰", "jie"),
    ("婷", "ting"),
    ("浩", "hao"),
    ("子涵", "zihan"),
    ("雨萱", "yuxuan"),
];
const ZH_DOMAINS: [&str; 4] = ["example.cn", "mail.example.com.cn", "qq.example.cn", "163.example.cn"];

const EN_PRODUCTS: [&str; 10] = [
    "wireless earbuds",
    "stainless steel water bottle (750 ml)",
    "running shoes, size 42",
    "USB-C charging cable (2 m)",
    "phone case for iPhone 15 Pro",
    "ceramic teapot set",
    "LED desk lamp",
    "yoga mat",
    "kids' rain jacket (size 6)",
    "Bluetooth speaker",
];
const ZH_PRODUCTS: [&str; 10] = [
    "无线蓝牙耳机",
    "保温杯（500毫升）",
    "跑步鞋 42码",
    "手机壳",
    "陶瓷茶具套装",
    "LED 台灯",
    "瑜伽垫",
    "儿童雨衣",
    "空气炸锅",
    "床上四件套",
];
const EN_CARRIERS: [&str; 6] = ["DHL", "UPS", "FedEx", "Royal Mail", "USPS", "Cainiao"];
const ZH_CARRIERS: [&str; 6] = ["顺丰", "中通", "圆通", "京东物流", "韵达", "EMS"];
const EN_STATUS: [&str; 5] =
    ["In transit", "Arrived at sorting center", "Out for delivery", "Customs clearance", "Label created"];
const ZH_STATUS: [&str; 5] = ["运输中", "已到达分拣中心", "派送中", "清关中", "已揽收"];

/// The facts one mail talks about.
struct Order {
    number: String,
    product_en: &'static str,
    product_zh: &'static str,
    tracking: String,
    carrier_en: &'static str,
    carrier_zh: &'static str,
    status_en: &'static str,
    status_zh: &'static str,
    days: usize,
    amount: String,
    amount_cny: String,
    date: String,
}

impl Order {
    fn new(rng: &mut SplitMix64) -> Self {
        let tracking = match rng.below(3) {
            0 => format!("SF{}", rng.digits(12)),
            1 => format!("1Z{}", rng.alnum(16).to_uppercase()),
            _ => format!("LP{}CN", rng.digits(14)),
        };
        Self {
            number: format!("NW-{}", rng.digits(6)),
            product_en: *rng.pick(&EN_PRODUCTS),
            product_zh: *rng.pick(&ZH_PRODUCTS),
            tracking,
            carrier_en: *rng.pick(&EN_CARRIERS),
            carrier_zh: *rng.pick(&ZH_CARRIERS),
            status_en: *rng.pick(&EN_STATUS),
            status_zh: *rng.pick(&ZH_STATUS),
            days: rng.range(3, 21),
            amount: format!("${}.{}", rng.range(9, 400), rng.digits(2)),
            amount_cny: format!("¥{}.{}", rng.range(39, 2800), rng.digits(2)),
            date: format!("{} November", rng.range(1, 22)),
        }
    }
}

fn en_request(rng: &mut SplitMix64, o: &Order, first: &str) -> (String, String) {
    match rng.below(7) {
        0 => (
            format!("Where is my parcel? Order {}", o.number),
            format!(
                "Hi,\n\nI ordered the {} on {} (order {}) and it still hasn't arrived. The tracking \
                 number {} has shown \"{}\" for {} days now.\n\nCould you check with {} what is \
                 going on? I need it before the weekend.\n\nThanks,\n{first}",
                o.product_en, o.date, o.number, o.tracking, o.status_en, o.days, o.carrier_en
            ),
        ),
        1 => (
            format!("Refund for order {}", o.number),
            format!(
                "Hello,\n\nI returned the {} from order {} on {}; the {} receipt for the return is \
                 {}. It has been {} days and I still don't see the refund of {} on my card.\n\n\
                 Please let me know when it will be processed.\n\nBest regards,\n{first}",
                o.product_en, o.number, o.date, o.carrier_en, o.tracking, o.days, o.amount
            ),
        ),
        2 => (
            format!("Item arrived damaged ({})", o.number),
            format!(
                "Hi there,\n\nThe {} from order {} arrived today but the box was crushed and the \
                 item is broken. I have taken photos of the parcel and the label ({}).\n\nI would \
                 like a replacement, or a refund of {} if you have none in stock.\n\n{first}",
                o.product_en, o.number, o.tracking, o.amount
            ),
        ),
        3 => (
            format!("Wrong item received - order {}", o.number),
            format!(
                "Hello,\n\nI ordered a {} (order {}) but received something else entirely. The \
                 packing slip inside shows a different order number.\n\nHow do I send it back, \
                 and when can you ship the right one?\n\nKind regards,\n{first}",
                o.product_en, o.number
            ),
        ),
        4 => (
            format!("Change delivery address for {}", o.number),
            format!(
                "Hi,\n\nI just placed order {} and noticed the delivery address is my old one. \
                 Could you change it to:\n\n  Flat {}, {} Kingsway\n  London WC2B {}AA\n\nIf it \
                 has already shipped with {} ({}), please tell me and I will contact them.\n\n\
                 Thank you,\n{first}",
                o.number,
                rng.range(1, 40),
                rng.range(1, 300),
                rng.range(1, 9),
                o.carrier_en,
                o.tracking
            ),
        ),
        5 => (
            format!("Please cancel my order {}", o.number),
            format!(
                "Hello,\n\nPlease cancel order {} ({}, {}). I ordered it twice by mistake.\n\n\
                 If it has shipped already, I will refuse the delivery.\n\nThanks,\n{first}",
                o.number, o.product_en, o.amount
            ),
        ),
        _ => (
            format!("Invoice request for order {}", o.number),
            format!(
                "Hi,\n\nCould you send me a VAT invoice for order {} ({})? The company details \
                 are:\n\n  Northwind Trading Ltd\n  VAT GB{}\n\nMany thanks,\n{first}",
                o.number,
                o.amount,
                rng.digits(9)
            ),
        ),
    }
}

fn zh_request(rng: &mut SplitMix64, o: &Order, name: &str) -> (String, String) {
    match rng.below(6) {
        0 => (
            format!("我的包裹在哪里？订单号 {}", o.number),
            format!(
                "您好，\n\n我在11月{}日下单购买了{}（订单号 {}），到现在还没有收到。物流单号 {} 已经{}天\
                 显示“{}”了。\n\n麻烦帮我查一下{}那边是什么情况，谢谢！\n\n{name}",
                o.days, o.product_zh, o.number, o.tracking, o.days, o.status_zh, o.carrier_zh
            ),
        ),
        1 => (
            format!("申请退款：订单 {}", o.number),
            format!(
                "您好：\n\n订单 {} 里的{}我已经寄回，退货快递单号 {}（{}）。已经过去{}天了，{}的退款\
                 还没有到账。\n\n请问什么时候可以处理？\n\n谢谢，\n{name}",
                o.number, o.product_zh, o.tracking, o.carrier_zh, o.days, o.amount_cny
            ),
        ),
        2 => (
            format!("商品破损，订单 {}", o.number),
            format!(
                "你好，\n\n今天收到的{}（订单 {}）外包装被压坏了，里面的商品也摔坏了。我拍了照片，\
                 快递单号是 {}。\n\n希望可以换一个新的，如果没有货的话请退款{}。\n\n{name}",
                o.product_zh, o.number, o.tracking, o.amount_cny
            ),
        ),
        3 => (
            format!("发错货了 {}", o.number),
            format!(
                "您好，\n\n我买的是{}（订单 {}），但是收到的是别的商品，包裹里的发货单也不是我的订单号。\
                 \n\n请问怎么退回？正确的商品什么时候能发出？\n\n{name}",
                o.product_zh, o.number
            ),
        ),
        4 => (
            format!("修改收货地址 {}", o.number),
            format!(
                "客服你好，\n\n订单 {} 的收货地址填错了，请改成：上海市浦东新区世纪大道{}号{}室，\
                 邮编 200120。\n\n如果已经交给{}发货了（单号 {}），请告诉我，我自己联系快递。\n\n谢谢！\n{name}",
                o.number,
                rng.range(1, 2000),
                rng.range(101, 2999),
                o.carrier_zh,
                o.tracking
            ),
        ),
        _ => (
            format!("开发票 订单{}", o.number),
            format!(
                "您好，\n\n麻烦给订单 {}（{}）开一张增值税普通发票。\n\n抬头：上海北风贸易有限公司\n\
                 税号：91310000{}\n\n发票请发到这个邮箱，谢谢。\n\n{name}",
                o.number,
                o.amount_cny,
                rng.alnum(10).to_uppercase()
            ),
        ),
    }
}

fn en_follow_up(rng: &mut SplitMix64, o: &Order, first: &str) -> String {
    let lines = [
        format!("Any update on this? The tracking for {} still hasn't moved.", o.tracking),
        "Thanks for the quick answer. The parcel arrived today, but one of the items is missing.".to_owned(),
        format!("I still haven't received the refund of {}. Can you check again?", o.amount),
        "Attached is the photo you asked for. The damage is on the left side of the box.".to_owned(),
        format!("Thank you! Please go ahead with the replacement for order {}.", o.number),
        "Sorry, I forgot to say: I will not be home on Friday, please ask the courier to leave it with \
         the neighbour at number 12."
            .to_owned(),
    ];
    format!("{}\n\n{}\n{first}", rng.pick(&lines), rng.pick(&["Thanks,", "Best,", "Regards,", "Cheers,"]))
}

fn zh_follow_up(rng: &mut SplitMix64, o: &Order, name: &str) -> String {
    let lines = [
        format!("请问有进展了吗？物流单号 {} 还是没有更新。", o.tracking),
        "谢谢回复。包裹今天到了，但是少了一件商品。".to_owned(),
        format!("{}的退款我还是没有收到，麻烦再帮我查一下。", o.amount_cny),
        "你们要的照片我发过来了，破损在箱子的左侧。".to_owned(),
        format!("好的，谢谢！订单 {} 请帮我换货。", o.number),
    ];
    format!("{}\n\n{name}", rng.pick(&lines))
}

fn en_answer(rng: &mut SplitMix64, o: &Order) -> String {
    let agent = rng.pick(&["Li Na", "Tom", "Sarah", "Wang Fang", "Alex"]);
    format!(
        "Hello,\n\nThank you for contacting Northwind Support. I have checked order {}: the parcel \
         left our warehouse on {} and is now with {} under tracking number {}. The last scan says \
         \"{}\".\n\nI have opened an investigation with the carrier; they answer within 2 business \
         days. If the parcel does not turn up, we will send a replacement or refund {} in full.\n\n\
         Kind regards,\n{agent}\nNorthwind Customer Support",
        o.number, o.date, o.carrier_en, o.tracking, o.status_en, o.amount
    )
}

fn zh_answer(rng: &mut SplitMix64, o: &Order) -> String {
    let agent = rng.pick(&["小李", "小王", "客服阿敏", "客服小周"]);
    format!(
        "您好，\n\n感谢您联系北风客服。已为您查询订单 {}：包裹已由{}承运，单号 {}，最新状态为“{}”。\n\n\
         我们已向快递公司提交查件申请，2个工作日内会有结果。如果包裹丢失，我们会为您补发或全额退款{}。\n\n\
         祝好，\n{agent}\n北风客服中心",
        o.number, o.carrier_zh, o.tracking, o.status_zh, o.amount_cny
    )
}

const EN_SIGNATURES: [&str; 4] = [
    "Sent from my iPhone",
    "Get Outlook for Android",
    "--\nThis email and any files transmitted with it are confidential and intended solely for \
     the use of the individual or entity to whom they are addressed. If you have received this \
     email in error please notify the sender and delete it. Any views or opinions presented in \
     this email are solely those of the author and do not necessarily represent those of the \
     company. Employees are expressly required not to make defamatory statements and not to \
     infringe or authorise any infringement of copyright or any other legal right by email \
     communications.",
    "--\nPlease consider the environment before printing this email.",
];
const ZH_SIGNATURES: [&str; 3] = ["发自我的iPhone", "发自网易邮箱大师", "—— 来自 QQ 邮箱"];

// --- a thread in progress --------------------------------------------------------------------

struct Thread {
    customer: usize,
    subject: String,
    order: Order,
    /// Customer Message-IDs so far, oldest first.
    ids: Vec<String>,
    /// The latest mail's full text (new text and its quoted history).
    last_text: String,
    /// The latest mail's HTML body content (inside `<body>`).
    last_html: String,
    last_date: String,
    /// The corpus index of the latest mail, for dates in other formats.
    last_index: usize,
}

/// Threads take at most this many replies, so quoted histories stay within mail sizes.
const MAX_THREAD_REPLIES: usize = 6;
/// Replies pick among this many recent threads.
const RECENT_THREADS: usize = 300;

struct Generator {
    rng: SplitMix64,
    customers: Vec<Customer>,
    threads: Vec<Thread>,
    /// Indexes of threads still taking replies.
    open: Vec<usize>,
    start: Timestamp,
}

impl Generator {
    fn new(count: usize, seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let customers = (0..count / 3 + 8).map(|i| customer(&mut rng, i)).collect();
        let start = Timestamp::from_second(1_795_392_000).unwrap_or(Timestamp::UNIX_EPOCH);
        Self { rng, customers, threads: Vec::new(), open: Vec::new(), start }
    }

    fn mail(&mut self, i: usize) -> GeneratedMail {
        let reply = !self.open.is_empty() && self.rng.chance(30);
        if reply { self.reply(i) } else { self.new_mail(i) }
    }

    fn date(&self, i: usize, chinese: bool) -> String {
        self.zoned(i, chinese).strftime("%a, %-d %b %Y %H:%M:%S %z").to_string()
    }

    /// As Chinese mail clients write it in an attribution line.
    fn date_zh(&self, i: usize) -> String {
        self.zoned(i, true).strftime("%Y年%-m月%-d日 %H:%M").to_string()
    }

    fn zoned(&self, i: usize, chinese: bool) -> jiff::Zoned {
        let at = self.start.checked_add(jiff::SignedDuration::from_secs(i as i64 * 37)).unwrap_or(self.start);
        at.to_zoned(TimeZone::fixed(if chinese { offset(8) } else { offset(0) }))
    }

    fn message_id(&mut self, i: usize, customer: &Customer) -> String {
        let domain = customer.address.rsplit_once('@').map_or("example.com", |(_, d)| d);
        match self.rng.below(3) {
            0 => format!("CA{}{}@mail.{domain}", self.rng.alnum(20), i),
            1 => format!("{}.{}.{i}@{domain}", self.rng.hex(16), self.rng.hex(8)),
            _ => format!("tencent_{}{}@{domain}", self.rng.hex(24).to_uppercase(), i),
        }
    }

    fn new_mail(&mut self, i: usize) -> GeneratedMail {
        let chinese_kind = self.rng.chance(30);
        let kind = if self.rng.below(1000) < 6 {
            Kind::Large
        } else if chinese_kind {
            if self.rng.chance(55) { Kind::Chinese } else { Kind::ChineseHtml }
        } else {
            match self.rng.below(100) {
                0..=39 => Kind::Plain,
                40..=74 => Kind::Html,
                _ => Kind::Attachment,
            }
        };
        let chinese = matches!(kind, Kind::Chinese | Kind::ChineseHtml)
            || (matches!(kind, Kind::Large) && self.rng.chance(30));
        let customer_index = self.pick_customer(chinese);
        let customer = self.customers[customer_index].clone();
        let order = Order::new(&mut self.rng);
        let (subject, mut text) = if customer.chinese {
            zh_request(&mut self.rng, &order, &customer.name)
        } else {
            en_request(&mut self.rng, &order, &customer.first)
        };
        let signature =
            if customer.chinese { *self.rng.pick(&ZH_SIGNATURES) } else { *self.rng.pick(&EN_SIGNATURES) };
        text.push_str("\n\n");
        text.push_str(signature);
        let message_id = self.message_id(i, &customer);
        let date = self.date(i, customer.chinese);
        let mut headers = self.headers(&customer, &subject, &message_id, &date, None);
        let mut attachments = 0;
        let body = match kind {
            Kind::Plain => {
                let target = self.rng.log_size(800, 6_000);
                pad_text(&mut self.rng, &mut text, &order, target, false);
                headers.push(("Content-Type".into(), "text/plain; charset=utf-8; format=flowed".into()));
                headers.push(("Content-Transfer-Encoding".into(), "quoted-printable".into()));
                quoted_printable(&text)
            }
            Kind::Chinese => {
                let target = self.rng.log_size(600, 12_000);
                pad_text(&mut self.rng, &mut text, &order, target, true);
                headers.push(("Content-Type".into(), "text/plain; charset=\"UTF-8\"".into()));
                headers.push(("Content-Transfer-Encoding".into(), "base64".into()));
                base64(text.as_bytes())
            }
            Kind::Html | Kind::ChineseHtml => {
                let target = self.rng.log_size(2_000, 48_000);
                let html = order_html(&mut self.rng, &text, &order, target, customer.chinese);
                let boundary = format!("000000000000{}", self.rng.hex(12));
                headers
                    .push(("Content-Type".into(), format!("multipart/alternative; boundary=\"{boundary}\"")));
                alternative(&boundary, &text, &full_html(&html, customer.chinese), customer.chinese)
            }
            Kind::Attachment | Kind::Large => {
                let large = kind == Kind::Large;
                let files: Vec<(String, String, Vec<u8>)> =
                    (0..if large && self.rng.chance(20) { 2 } else { 1 })
                        .map(|n| self.attachment(&order, large, n, customer.chinese))
                        .collect();
                attachments = files.len();
                let boundary = format!("----=_Part_{i}_{}.{}", self.rng.digits(9), self.rng.digits(13));
                headers.push(("Content-Type".into(), format!("multipart/mixed; boundary=\"{boundary}\"")));
                mixed(&boundary, &text, &files, customer.chinese)
            }
            _ => unreachable!("new mails are not replies"),
        };
        self.threads.push(Thread {
            customer: customer_index,
            subject: subject.clone(),
            order,
            ids: vec![message_id.clone()],
            last_html: text_html(&text),
            last_text: text,
            last_date: date,
            last_index: i,
        });
        self.open.push(self.threads.len() - 1);
        GeneratedMail { kind, message_id, in_reply_to: None, attachments, raw: assemble(&headers, &body) }
    }

    fn reply(&mut self, i: usize) -> GeneratedMail {
        let recent = self.open.len().min(RECENT_THREADS);
        let slot = self.open.len() - 1 - self.rng.below(recent);
        let t = self.open[slot];
        let customer = self.customers[self.threads[t].customer].clone();
        let kind = if customer.chinese {
            Kind::ChineseReply
        } else if self.rng.chance(55) {
            Kind::GmailReply
        } else {
            Kind::OutlookReply
        };
        // The desk answered in between; the customer's client quotes that answer, which
        // quotes the customer's previous mail.
        let (answer, new_text) = {
            let order = &self.threads[t].order;
            if customer.chinese {
                (zh_answer(&mut self.rng, order), zh_follow_up(&mut self.rng, order, &customer.name))
            } else {
                (en_answer(&mut self.rng, order), en_follow_up(&mut self.rng, order, &customer.first))
            }
        };
        let date = self.date(i, customer.chinese);
        let answer_date = self.date(i.saturating_sub(3), customer.chinese);
        let message_id = self.message_id(i, &customer);
        let thread = &self.threads[t];
        let desk = "Northwind Support";
        let (subject, text, html) = match kind {
            Kind::GmailReply => {
                let answer_text = format!(
                    "{answer}\n\nOn {}, {} <{}> wrote:\n{}",
                    thread.last_date,
                    customer.name,
                    customer.address,
                    quote(&thread.last_text)
                );
                let text = format!(
                    "{new_text}\n\nOn {answer_date}, {desk} <{DESK_ADDRESS}> wrote:\n{}",
                    quote(&answer_text)
                );
                let answer_html = format!(
                    "{}{}",
                    text_html(&answer),
                    gmail_quote(
                        &format!(
                            "On {}, {} &lt;{}&gt; wrote:",
                            thread.last_date, customer.name, customer.address
                        ),
                        &thread.last_html
                    )
                );
                let html = format!(
                    "{}{}",
                    text_html(&new_text),
                    gmail_quote(
                        &format!("On {answer_date}, {desk} &lt;{DESK_ADDRESS}&gt; wrote:"),
                        &answer_html
                    )
                );
                (format!("Re: {}", thread.subject), text, html)
            }
            Kind::OutlookReply => {
                let header = |from: &str, sent: &str, to: &str| {
                    format!("From: {from}\nSent: {sent}\nTo: {to}\nSubject: RE: {}\n\n", thread.subject)
                };
                let me = format!("{} <{}>", customer.name, customer.address);
                let support = format!("{desk} <{DESK_ADDRESS}>");
                let text = format!(
                    "{new_text}\n\n-----Original Message-----\n{}{answer}\n\n-----Original Message-----\n{}{}",
                    header(&support, &answer_date, &me),
                    header(&me, &thread.last_date, &support),
                    thread.last_text
                );
                let html = format!(
                    "{}{}{}{}{}",
                    outlook_paragraphs(&new_text),
                    outlook_header(&support, &answer_date, &me, &thread.subject),
                    outlook_paragraphs(&answer),
                    outlook_header(&me, &thread.last_date, &support, &thread.subject),
                    thread.last_html
                );
                (format!("RE: {}", thread.subject), text, html)
            }
            _ => {
                let text = format!(
                    "{new_text}\n\n在 {}，北风客服 <{DESK_ADDRESS}> 写道：\n{}",
                    self.date_zh(i.saturating_sub(3)),
                    quote(&format!(
                        "{answer}\n\n在 {}，{} <{}> 写道：\n{}",
                        self.date_zh(thread.last_index),
                        customer.name,
                        customer.address,
                        quote(&thread.last_text)
                    ))
                );
                let html = format!(
                    "{}<div><br></div><div>------------------&nbsp;原始邮件&nbsp;------------------</div>\
                     <div style=\"font-size: 12px;background:#efefef;padding:8px;\"><div><b>发件人:</b>&nbsp;\
                     \"北风客服\"&lt;{DESK_ADDRESS}&gt;;</div><div><b>发送时间:</b>&nbsp;{answer_date}</div>\
                     <div><b>主题:</b>&nbsp;{}</div></div><div><br></div>{}<blockquote>{}</blockquote>",
                    text_html(&new_text),
                    escape_html(&thread.subject),
                    text_html(&answer),
                    thread.last_html
                );
                (format!("回复：{}", thread.subject), text, html)
            }
        };
        let parent = thread.ids.last().cloned().unwrap_or_default();
        let references = thread.ids.clone();
        let mut headers = self.headers(&customer, &subject, &message_id, &date, Some((&parent, &references)));
        let boundary = match kind {
            Kind::OutlookReply => format!("_000_{}_", self.rng.alnum(40)),
            _ => format!("000000000000{}", self.rng.hex(12)),
        };
        headers.push(("Content-Type".into(), format!("multipart/alternative; boundary=\"{boundary}\"")));
        let full = match kind {
            Kind::OutlookReply => outlook_html(&html),
            _ => full_html(&html, customer.chinese),
        };
        let body = alternative(&boundary, &text, &full, customer.chinese);
        let thread = &mut self.threads[t];
        thread.ids.push(message_id.clone());
        thread.last_text = text;
        thread.last_html = html;
        thread.last_date = date;
        thread.last_index = i;
        if thread.ids.len() > MAX_THREAD_REPLIES {
            self.open.remove(slot);
        }
        GeneratedMail {
            kind,
            message_id,
            in_reply_to: Some(parent),
            attachments: 0,
            raw: assemble(&headers, &body),
        }
    }

    fn pick_customer(&mut self, chinese: bool) -> usize {
        loop {
            let i = self.rng.below(self.customers.len());
            if self.customers[i].chinese == chinese {
                return i;
            }
        }
    }

    /// Transport and identity headers as SES delivers them, then the message's own.
    fn headers(
        &mut self,
        customer: &Customer,
        subject: &str,
        message_id: &str,
        date: &str,
        thread: Option<(&str, &[String])>,
    ) -> Vec<(String, String)> {
        let domain = customer.address.rsplit_once('@').map_or("example.com", |(_, d)| d).to_owned();
        let ip = format!("203.0.113.{}", self.rng.range(1, 255));
        let smtp_id = self.rng.alnum(32).to_lowercase();
        let mut headers: Vec<(String, String)> = vec![
            ("Return-Path".into(), format!("<{}>", customer.address)),
            (
                "Received".into(),
                format!(
                    "from mx.{domain} (mx.{domain} [{ip}])\r\n by inbound-smtp.us-east-1.amazonaws.com \
                     with SMTP id {smtp_id}\r\n for {DESK_ADDRESS};\r\n {date}"
                ),
            ),
            ("X-SES-Spam-Verdict".into(), "PASS".into()),
            ("X-SES-Virus-Verdict".into(), "PASS".into()),
            (
                "Authentication-Results".into(),
                format!(
                    "amazonses.com;\r\n spf=pass (spf=pass): sender IP is {ip};\r\n \
                     dkim=pass header.i=@{domain};\r\n dmarc=pass header.from={domain};"
                ),
            ),
            (
                "DKIM-Signature".into(),
                format!(
                    "v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=s2048; t={};\r\n \
                     h=from:to:subject:date:message-id:mime-version;\r\n bh={}=;\r\n b={}\r\n {}==",
                    1_795_392_000 + self.rng.below(100_000),
                    self.rng.alnum(43),
                    self.rng.alnum(70),
                    self.rng.alnum(70)
                ),
            ),
            ("MIME-Version".into(), "1.0".into()),
            ("From".into(), format!("{} <{}>", encode_word(&customer.name), customer.address)),
            ("Date".into(), date.to_owned()),
            ("Message-ID".into(), format!("<{message_id}>")),
            ("Subject".into(), encode_word(subject)),
            ("To".into(), format!("Northwind Support <{DESK_ADDRESS}>")),
        ];
        if let Some((parent, references)) = thread {
            headers.push(("In-Reply-To".into(), format!("<{parent}>")));
            let refs: Vec<String> = references.iter().map(|r| format!("<{r}>")).collect();
            headers.push(("References".into(), refs.join("\r\n ")));
        }
        if customer.chinese {
            headers.push(("X-Mailer".into(), "Foxmail 7.2.25.375[cn]".into()));
        } else if self.rng.chance(40) {
            headers.push(("X-Mailer".into(), "Microsoft Outlook 16.0".into()));
            headers.push(("Thread-Index".into(), format!("A{}==", self.rng.alnum(30))));
        }
        headers
    }

    fn attachment(
        &mut self,
        order: &Order,
        large: bool,
        n: usize,
        chinese: bool,
    ) -> (String, String, Vec<u8>) {
        let (name, content_type, mut bytes) = if large || self.rng.chance(50) {
            let size =
                if large { self.rng.range(100_000, 300_000) } else { self.rng.log_size(2_000, 40_000) };
            let name = if chinese {
                format!("破损照片{}.jpg", n + 1)
            } else {
                format!("IMG_{}.jpg", self.rng.digits(4))
            };
            let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00];
            bytes.extend(self.rng.bytes(size));
            (name, "image/jpeg", bytes)
        } else {
            let size = self.rng.log_size(2_000, 20_000);
            let name = if chinese {
                format!("发票-{}.pdf", order.number)
            } else {
                format!("invoice-{}.pdf", order.number)
            };
            let mut bytes =
                b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n".to_vec();
            bytes.extend(self.rng.bytes(size));
            (name, "application/pdf", bytes)
        };
        bytes.extend_from_slice(b"\n%%EOF\n");
        (name, content_type.to_owned(), bytes)
    }
}

fn customer(rng: &mut SplitMix64, i: usize) -> Customer {
    if rng.chance(35) {
        let (surname, surname_py) = *rng.pick(&ZH_SURNAMES);
        let (given, given_py) = *rng.pick(&ZH_GIVEN);
        let domain = rng.pick(&ZH_DOMAINS);
        Customer {
            name: format!("{surname}{given}"),
            first: given.to_owned(),
            address: format!("{surname_py}.{given_py}{i}@{domain}"),
            chinese: true,
        }
    } else {
        let first = rng.pick(&EN_FIRST);
        let last = rng.pick(&EN_LAST);
        let domain = rng.pick(&EN_DOMAINS);
        Customer {
            name: format!("{first} {last}"),
            first: (*first).to_owned(),
            address: format!("{}.{}{i}@{domain}", first.to_lowercase(), last.to_lowercase()),
            chinese: false,
        }
    }
}

/// Adds order details, tracking history and the like until `text` is about `target` bytes.
fn pad_text(rng: &mut SplitMix64, text: &mut String, order: &Order, target: usize, chinese: bool) {
    let mut block = 0;
    while text.len() < target {
        let line = if chinese {
            match block % 3 {
                0 => format!(
                    "\n\n订单信息：{}  商品：{}  数量：{}  金额：{}",
                    order.number,
                    rng.pick(&ZH_PRODUCTS),
                    rng.range(1, 4),
                    order.amount_cny
                ),
                1 => format!(
                    "\n\n物流记录：11月{}日 {:02}:{:02} 【{}】{}，快递员：{}师傅，电话 1{}",
                    rng.range(1, 23),
                    rng.below(24),
                    rng.below(60),
                    rng.pick(&["上海转运中心", "杭州分拨中心", "深圳宝安营业部", "北京顺义集散中心"]),
                    rng.pick(&ZH_STATUS),
                    rng.pick(&["王", "李", "张"]),
                    rng.digits(10)
                ),
                _ => "\n\n另外想问一下，你们的七天无理由退货需要保留原包装吗？我把盒子扔掉了，只剩下商品和说明书。\
                      如果不行的话也没关系，我就留着用了。"
                    .to_owned(),
            }
        } else {
            match block % 3 {
                0 => format!(
                    "\n\nOrder details:\n  Order number: {}\n  Item: {} x{}\n  Total: {}\n  Shipping: {} ({})",
                    order.number,
                    rng.pick(&EN_PRODUCTS),
                    rng.range(1, 4),
                    order.amount,
                    order.carrier_en,
                    order.tracking
                ),
                1 => format!(
                    "\n\nTracking history:\n  {} Nov {:02}:{:02}  {}  {}",
                    rng.range(1, 23),
                    rng.below(24),
                    rng.below(60),
                    rng.pick(&["Shenzhen, CN", "Leipzig Hub, DE", "East Midlands, GB", "Louisville, KY, US"]),
                    rng.pick(&EN_STATUS)
                ),
                _ => "\n\nAlso, I noticed that your website still shows the item as in stock, while the \
                      confirmation email said it would take two more weeks. Which one is right? I would \
                      rather wait than get a different colour, so please do not substitute it."
                    .to_owned(),
            }
        };
        text.push_str(&line);
        block += 1;
    }
}

/// An HTML message body: the text, then an order summary table, then a footer, to about
/// `target` bytes.
fn order_html(rng: &mut SplitMix64, text: &str, order: &Order, target: usize, chinese: bool) -> String {
    let mut html = text_html(text);
    let cell = "style=\"padding:6px 10px;border-bottom:1px solid #e5e5e5;font-family:Arial,Helvetica,sans-serif;font-size:13px;color:#333333\"";
    let (item, qty, price) = if chinese { ("商品", "数量", "金额") } else { ("Item", "Qty", "Price") };
    html.push_str(&format!(
        "<div><br></div><table cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"border-collapse:collapse;width:100%;max-width:600px\">\
         <thead><tr><th {cell}>{item}</th><th {cell}>{qty}</th><th {cell}>{price}</th></tr></thead><tbody>"
    ));
    while html.len() < target {
        let product = if chinese { *rng.pick(&ZH_PRODUCTS) } else { *rng.pick(&EN_PRODUCTS) };
        let amount = if chinese { &order.amount_cny } else { &order.amount };
        html.push_str(&format!(
            "<tr><td {cell}><a href=\"https://shop.example/products/{}?utm_source=email&amp;utm_medium=order\" \
             style=\"color:#1a73e8;text-decoration:none\">{}</a></td><td {cell}>{}</td><td {cell}>{}</td></tr>",
            rng.hex(8),
            escape_html(product),
            rng.range(1, 4),
            escape_html(amount)
        ));
    }
    html.push_str("</tbody></table>");
    html
}

// --- MIME assembly ---------------------------------------------------------------------------

fn assemble(headers: &[(String, String)], body: &str) -> Vec<u8> {
    let mut raw = String::with_capacity(body.len() + 2048);
    for (name, value) in headers {
        raw.push_str(name);
        raw.push_str(": ");
        raw.push_str(value);
        raw.push_str("\r\n");
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    raw.into_bytes()
}

/// multipart/alternative: text, then HTML; UTF-8 in quoted-printable, or base64 for Chinese.
fn alternative(boundary: &str, text: &str, html: &str, chinese: bool) -> String {
    let (encoding, encode): (&str, fn(&str) -> String) =
        if chinese { ("base64", |s| base64(s.as_bytes())) } else { ("quoted-printable", quoted_printable) };
    format!(
        "--{boundary}\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Type: text/html; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n\
         --{boundary}--\r\n",
        encode(text),
        quoted_printable(html)
    )
}

/// multipart/mixed: the text, then the files in base64.
fn mixed(boundary: &str, text: &str, files: &[(String, String, Vec<u8>)], chinese: bool) -> String {
    let mut body = format!(
        "This is a multi-part message in MIME format.\r\n\r\n--{boundary}\r\nContent-Type: text/plain; charset=UTF-8\r\n\
         Content-Transfer-Encoding: {}\r\n\r\n{}\r\n",
        if chinese { "base64" } else { "quoted-printable" },
        if chinese { base64(text.as_bytes()) } else { quoted_printable(text) }
    );
    for (name, content_type, bytes) in files {
        let disposition = if name.is_ascii() {
            format!("attachment; filename=\"{name}\"")
        } else {
            format!("attachment; filename*=UTF-8''{}", percent_encode(name))
        };
        body.push_str(&format!(
            "--{boundary}\r\nContent-Type: {content_type}; name=\"{}\"\r\nContent-Disposition: {disposition}\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            encode_word(name),
            base64(bytes)
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
}

fn full_html(inner: &str, chinese: bool) -> String {
    let font =
        if chinese { "\"Microsoft YaHei\",\"PingFang SC\",sans-serif" } else { "Arial,Helvetica,sans-serif" };
    format!(
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\"></head>\
         <body><div dir=\"ltr\" style=\"font-family:{font};font-size:14px\">{inner}</div></body></html>"
    )
}

fn outlook_html(inner: &str) -> String {
    format!(
        "<html xmlns:v=\"urn:schemas-microsoft-com:vml\" xmlns:o=\"urn:schemas-microsoft-com:office:office\" \
         xmlns:w=\"urn:schemas-microsoft-com:office:word\" xmlns:m=\"http://schemas.microsoft.com/office/2004/12/omml\" \
         xmlns=\"http://www.w3.org/TR/REC-html40\"><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\
         <meta name=\"Generator\" content=\"Microsoft Word 15 (filtered medium)\"><style><!--\n\
         @font-face {{font-family:\"Cambria Math\"; panose-1:2 4 5 3 5 4 6 3 2 4;}}\n\
         @font-face {{font-family:Calibri; panose-1:2 15 5 2 2 2 4 3 2 4;}}\n\
         p.MsoNormal, li.MsoNormal, div.MsoNormal {{margin:0cm; font-size:11.0pt; font-family:\"Calibri\",sans-serif;}}\n\
         a:link, span.MsoHyperlink {{mso-style-priority:99; color:#0563C1; text-decoration:underline;}}\n\
         span.EmailStyle18 {{mso-style-type:personal-reply; font-family:\"Calibri\",sans-serif; color:windowtext;}}\n\
         .MsoChpDefault {{mso-style-type:export-only; font-size:10.0pt;}}\n\
         @page WordSection1 {{size:612.0pt 792.0pt; margin:72.0pt 72.0pt 72.0pt 72.0pt;}}\n\
         div.WordSection1 {{page:WordSection1;}}\n--></style></head>\
         <body lang=\"EN-GB\" link=\"#0563C1\" vlink=\"#954F72\" style=\"word-wrap:break-word\"><div class=\"WordSection1\">{inner}</div></body></html>"
    )
}

fn outlook_paragraphs(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.trim().is_empty() {
                "<p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>".to_owned()
            } else {
                format!(
                    "<p class=\"MsoNormal\"><span lang=\"EN-US\">{}<o:p></o:p></span></p>",
                    escape_html(line)
                )
            }
        })
        .collect()
}

fn outlook_header(from: &str, sent: &str, to: &str, subject: &str) -> String {
    format!(
        "<div style=\"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm\"><p class=\"MsoNormal\">\
         <b><span lang=\"EN-US\">From:</span></b><span lang=\"EN-US\"> {}<br><b>Sent:</b> {}<br><b>To:</b> {}<br>\
         <b>Subject:</b> RE: {}<o:p></o:p></span></p></div><p class=\"MsoNormal\"><o:p>&nbsp;</o:p></p>",
        escape_html(from),
        escape_html(sent),
        escape_html(to),
        escape_html(subject)
    )
}

fn gmail_quote(attribution: &str, inner: &str) -> String {
    format!(
        "<br><div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">{attribution}<br></div>\
         <blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);\
         padding-left:1ex\">{inner}</blockquote></div>"
    )
}

/// Plain text as Gmail writes it: a `<div>` per line, `<br>` for blank ones.
fn text_html(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.trim().is_empty() {
                "<div><br></div>".to_owned()
            } else {
                format!("<div>{}</div>", escape_html(line))
            }
        })
        .collect()
}

fn quote(text: &str) -> String {
    text.lines()
        .map(|l| if l.is_empty() { ">".to_owned() } else { format!("> {l}") })
        .collect::<Vec<_>>()
        .join("\n")
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

// --- encoders --------------------------------------------------------------------------------

/// Base64 (RFC 2045) in lines of 76 characters.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + bytes.len() / 38 + 4);
    for (i, chunk) in bytes.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(char::from(ALPHABET[(n >> 18) as usize & 63]));
        out.push(char::from(ALPHABET[(n >> 12) as usize & 63]));
        out.push(if chunk.len() > 1 { char::from(ALPHABET[(n >> 6) as usize & 63]) } else { '=' });
        out.push(if chunk.len() > 2 { char::from(ALPHABET[n as usize & 63]) } else { '=' });
    }
    out
}

/// Quoted-printable (RFC 2045 §6.7) of UTF-8 text, lines ending in CRLF, soft breaks at 76.
pub fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push_str("\r\n");
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        let bytes = line.as_bytes();
        let mut width = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let literal = ((b'!'..=b'~').contains(&b) && b != b'=') || ((b == b' ' || b == b'\t') && !last);
            let piece = if literal { String::from(char::from(b)) } else { format!("={b:02X}") };
            if width + piece.len() > 75 {
                out.push_str("=\r\n");
                width = 0;
            }
            width += piece.len();
            out.push_str(&piece);
        }
    }
    out
}

/// An RFC 2047 encoded word (UTF-8, B) when `text` is not plain ASCII; words of at most 45
/// bytes of text, cut at character boundaries, folded onto continuation lines.
pub fn encode_word(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use omnidesk_domain::email::parse;

    use super::*;

    #[test]
    fn every_generated_mail_parses_with_its_thread_and_attachments() {
        let corpus = Corpus::generate(600, 0x5EED);
        let mut ids = std::collections::HashSet::new();
        for (i, mail) in corpus.mails.iter().enumerate() {
            let parsed = parse(&mail.raw).unwrap_or_else(|e| {
                panic!(
                    "mail {i} ({}) does not parse: {e}\n{}",
                    mail.kind.name(),
                    String::from_utf8_lossy(&mail.raw)
                )
            });
            assert_eq!(parsed.message_id.as_deref(), Some(mail.message_id.as_str()), "mail {i}");
            assert!(ids.insert(mail.message_id.clone()), "mail {i}: Message-ID repeats");
            assert!(!parsed.subject.is_empty() && !parsed.text.is_empty(), "mail {i}");
            assert_eq!(parsed.to[0].address, DESK_ADDRESS);
            assert_eq!(parsed.attachments.len(), mail.attachments, "mail {i} ({})", mail.kind.name());
            assert!(parsed.bounce.is_none() && parsed.automation.auto_submitted.is_none());
            match &mail.in_reply_to {
                Some(parent) => {
                    assert!(mail.kind.is_reply());
                    assert!(ids.contains(parent), "mail {i} answers a mail that comes later");
                    assert_eq!(parsed.in_reply_to, vec![parent.clone()]);
                    assert_eq!(parsed.references.last(), Some(parent));
                    // The quoted history is split off.
                    assert!(!parsed.quoted.is_empty(), "mail {i} ({}): no history found", mail.kind.name());
                }
                None => assert!(!mail.kind.is_reply() && parsed.in_reply_to.is_empty()),
            }
            if matches!(mail.kind, Kind::Chinese | Kind::ChineseHtml | Kind::ChineseReply) {
                assert_eq!(parsed.language, "zh", "mail {i}: {}", parsed.text);
                assert!(!parsed.subject.is_ascii(), "mail {i}: the RFC 2047 subject decodes");
            }
        }
    }

    #[test]
    fn the_corpus_has_every_kind_and_realistic_sizes() {
        let corpus = Corpus::generate(1_000, 7);
        let counts = corpus.counts();
        for kind in Kind::ALL {
            assert!(counts.get(&kind).copied().unwrap_or(0) > 0, "no {} mail", kind.name());
        }
        for mail in &corpus.mails {
            let size = mail.raw.len();
            if mail.kind == Kind::Large {
                assert!(size > 100_000, "{size}");
            } else {
                assert!((1_000..=80_000).contains(&size), "{} mail of {size} bytes", mail.kind.name());
            }
        }
        assert!(corpus.replies() > 200, "{}", corpus.describe());
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        let a = Corpus::generate(50, 42);
        let b = Corpus::generate(50, 42);
        assert!(a.mails.iter().zip(&b.mails).all(|(x, y)| x.raw == y.raw));
        let c = Corpus::generate(50, 43);
        assert!(a.mails.iter().zip(&c.mails).any(|(x, y)| x.raw != y.raw));
    }

    #[test]
    fn encoders_match_known_values() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(base64(&[0u8; 60]).lines().next().map(str::len), Some(76));
        assert_eq!(quoted_printable("a=b c \nend "), "a=3Db c=20\r\nend=20");
        assert!(quoted_printable(&"包".repeat(40)).lines().all(|l| l.len() <= 76));
        assert_eq!(encode_word("Parcel"), "Parcel");
        assert_eq!(encode_word("包裹"), "=?UTF-8?B?5YyF6KO5?=");
    }
}
