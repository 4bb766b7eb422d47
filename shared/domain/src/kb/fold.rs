//! Traditional → simplified folding for the characters customers use about orders, delivery,
//! payment and accounts, so a question typed in traditional characters finds the simplified
//! article. A table of common characters, not a converter: rare characters pass unchanged.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Pairs: each traditional character followed by its simplified form.
const PAIRS: &str = "訂订單单貨货運运費费換换與与號号碼码買买賣卖錢钱還还聯联繫系絡络郵邮遞递\
發发達达麼么這这裡里們们個个時时間间問问題题設设計计帳账戶户價价會会員员積积點点種种樣样\
顏颜褲裤長长寬宽質质壞坏損损錯错實实際际狀状態态詢询國国關关稅税開开專专電电話话轉转務务\
說说請请謝谢嗎吗沒没為为應应該该從从後后幾几處处銀银寶宝掃扫條条讓让給给領领紅红過过規规\
則则將将產产類类庫库補补預预約约購购車车結结滿满減减隱隐資资刪删註注冊册錄录驗证證证簡简\
體体語语頁页網网鏈链紀纪記记歷历門门線线優优惠惠劵券退退款款態态讀读寫写報报廣广東东區区\
縣县鎮镇鄉乡門门櫃柜鑰钥匙匙張张紙纸盒盒箱箱帶带裝装拆拆氣气溫温濕湿熱热涼凉舊旧壓压碎碎\
髒脏缺缺少少漏漏邊边雙双襪袜號号尺尺寸寸適适合合鬆松緊紧厘厘米米碼码鞋鞋衣衣服服換换貨货\
麼么怎怎辦办啥啥咋咋麼么嗎吗呢呢啊啊吧吧恆恒級级歡欢喚唤員员團团隊队贈赠禮礼卡卡餘余額额\
歸归還还處处覆复雜杂錶表鐘钟頭头腦脑機机術术軟软體体裝装備备訊讯號号傳传送送達达慢慢很很\
麼么們们你你幫帮忙忙謝谢親亲愛爱惡恶劣劣態态度度投投訴诉舉举騙骗憤愤氣气糟糟糕糕爛烂";

fn table() -> &'static HashMap<char, char> {
    static TABLE: OnceLock<HashMap<char, char>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let chars: Vec<char> = PAIRS.chars().filter(|c| !c.is_whitespace()).collect();
        chars.chunks_exact(2).filter(|pair| pair[0] != pair[1]).map(|pair| (pair[0], pair[1])).collect()
    })
}

/// The simplified form of `c`, or `c` itself.
pub fn simplified(c: char) -> char {
    table().get(&c).copied().unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_traditional_characters_fold_to_simplified() {
        let folded: String = "訂單號碼還沒發貨".chars().map(simplified).collect();
        assert_eq!(folded, "订单号码还没发货");
    }

    #[test]
    fn the_pair_table_is_well_formed() {
        let chars: Vec<char> = PAIRS.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(chars.len() % 2, 0, "every traditional character has its simplified form");
    }
}
