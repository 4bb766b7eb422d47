//! The things a shop sells, as a customer names them — clothes, shoes, bags, jewellery,
//! cosmetics, kitchen and home goods, toys, small electronics — in English and Chinese. A
//! customer names their own item in passing ("the *mug* came smashed", "*鞋子*大了想换"):
//! when no article uses the word, it says which thing the question is about, not what is
//! asked, so it weighs like a generic word ([`super::filler`]). Written from general
//! knowledge of e-commerce and both languages, not from any labelled question.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::text::stem;

const EN: &[&str] = &[
    // Clothes.
    "shirt",
    "tshirt",
    "tee",
    "top",
    "blouse",
    "sweater",
    "jumper",
    "hoodie",
    "sweatshirt",
    "cardigan",
    "jacket",
    "coat",
    "parka",
    "blazer",
    "vest",
    "dress",
    "skirt",
    "trousers",
    "pants",
    "jeans",
    "shorts",
    "leggings",
    "joggers",
    "pyjamas",
    "pajamas",
    "underwear",
    "bra",
    "socks",
    "tights",
    "swimsuit",
    "bikini",
    "scarf",
    "gloves",
    "hat",
    "beanie",
    "belt",
    // Shoes.
    "shoes",
    "sneakers",
    "trainers",
    "boots",
    "sandals",
    "heels",
    "slippers",
    "loafers",
    // Bags and accessories.
    "bag",
    "handbag",
    "backpack",
    "purse",
    "wallet",
    "suitcase",
    "umbrella",
    "sunglasses",
    "glasses",
    "necklace",
    "bracelet",
    "earrings",
    "jewellery",
    "jewelry",
    // Beauty.
    "lipstick",
    "perfume",
    "makeup",
    "mascara",
    "cream",
    "lotion",
    "shampoo",
    "serum",
    "palette",
    // Kitchen and home.
    "mug",
    "cup",
    "plate",
    "bowl",
    "teapot",
    "kettle",
    "knife",
    "vase",
    "lamp",
    "candle",
    "cushion",
    "pillow",
    "blanket",
    "towel",
    "sheets",
    "duvet",
    "rug",
    "curtains",
    "mirror",
    "chair",
    "shelf",
    // Toys, books, gifts.
    "toy",
    "doll",
    "puzzle",
    "gift",
    // Electronics.
    "headphones",
    "earphones",
    "earbuds",
    "speaker",
    "charger",
    "cable",
    "laptop",
    "camera",
    "keyboard",
    // A thing, generically.
    "item",
    "items",
    "product",
    "products",
    "piece",
    "pair",
];

/// Chinese nouns of the same kinds, as the search cuts them (bigrams).
const ZH: &[&str] = &[
    "衣服", "上衣", "衬衫", "衬衣", "卫衣", "毛衣", "外套", "夹克", "大衣", "羽绒", "棉服", "风衣", "西装",
    "背心", "裙子", "连衣", "半身", "裤子", "牛仔", "短裤", "长裤", "内衣", "内裤", "袜子", "睡衣", "泳衣",
    "围巾", "手套", "帽子", "腰带", "皮带", "鞋子", "球鞋", "靴子", "凉鞋", "拖鞋", "高跟", "包包", "背包",
    "书包", "钱包", "手提", "行李", "雨伞", "眼镜", "墨镜", "手表", "项链", "手链", "耳环", "耳钉", "戒指",
    "首饰", "口红", "香水", "面霜", "乳液", "粉底", "眼影", "洗发", "杯子", "水杯", "马克", "茶壶", "水壶",
    "盘子", "碗筷", "锅子", "花瓶", "台灯", "蜡烛", "靠垫", "抱枕", "枕头", "毯子", "毛巾", "床单", "被子",
    "地毯", "窗帘", "镜子", "相框", "椅子", "桌子", "架子", "玩具", "娃娃", "积木", "拼图", "礼物", "礼品",
    "耳机", "音箱", "手机", "平板", "电脑", "相机", "鼠标", "键盘", "东西", "商品", "宝贝", "产品", "物品",
    "一件", "两件", "三件", "一双", "一条", "一套",
];

fn english() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| EN.iter().map(|w| stem(w)).collect())
}

/// Whether `term` (as the search cuts it: a stemmed word or a Han bigram) names a thing a
/// shop sells.
pub(super) fn is_item(term: &str) -> bool {
    if term.is_ascii() {
        return english().contains(term);
    }
    ZH.contains(&term)
}

#[cfg(test)]
mod tests {
    use super::is_item;
    use crate::kb::text::terms;

    #[test]
    fn the_things_a_shop_sells_are_items_in_both_languages_but_what_is_asked_is_not() {
        for word in ["mug", "sneakers", "dresses", "kettle", "earrings"] {
            let term = &terms(word)[0].text;
            assert!(is_item(term), "{word}");
        }
        for word in ["discount", "student", "membership", "stock", "warranty"] {
            let term = &terms(word)[0].text;
            assert!(!is_item(term), "{word}");
        }
        assert!(is_item("杯子"));
        assert!(is_item("鞋子"));
        assert!(!is_item("保修"));
    }
}
