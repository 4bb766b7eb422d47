//! Traditional → simplified folding for the characters customers use about orders, delivery,
//! payment and accounts, so a question typed in traditional characters finds the simplified
//! article. A table of common characters, not a converter: rare characters pass unchanged.

use std::sync::OnceLock;

/// Pairs: each traditional character followed by its simplified form.
const PAIRS: &str = "訂订單单貨货運运費费換换與与號号碼码買买賣卖錢钱還还聯联繫系絡络郵邮遞递\
發发達达麼么這这裡里們们個个時时間间問问題题設设計计帳账戶户價价會会員员積积點点種种樣样\
顏颜褲裤長长寬宽質质壞坏損损錯错實实際际狀状態态詢询國国關关稅税開开專专電电話话轉转務务\
說说請请謝谢嗎吗沒没為为應应該该從从後后幾几處处銀银寶宝掃扫條条讓让給给領领紅红過过規规\
則则將将產产類类庫库補补預预約约購购車车結结滿满減减隱隐資资刪删註注冊册錄录驗验證证簡简\
體体語语頁页網网鏈链紀纪記记歷历門门線线優优惠惠劵券退退款款態态讀读寫写報报廣广東东區区\
縣县鎮镇鄉乡門门櫃柜鑰钥匙匙張张紙纸盒盒箱箱帶带裝装拆拆氣气溫温濕湿熱热涼凉舊旧壓压碎碎\
髒脏缺缺少少漏漏邊边雙双襪袜號号尺尺寸寸適适合合鬆松緊紧厘厘米米碼码鞋鞋衣衣服服換换貨货\
麼么怎怎辦办啥啥咋咋麼么嗎吗呢呢啊啊吧吧恆恒級级歡欢喚唤員员團团隊队贈赠禮礼卡卡餘余額额\
歸归還还處处覆复雜杂錶表鐘钟頭头腦脑機机術术軟软體体裝装備备訊讯號号傳传送送達达慢慢很很\
麼么們们你你幫帮忙忙謝谢親亲愛爱惡恶劣劣態态度度投投訴诉舉举騙骗憤愤氣气糟糟糕糕爛烂\
來来倉仓償偿儲储內内別别匯汇協协圍围圖图審审對对幣币搶抢擇择據据數数斷断曬晒業业檢检檯台\
殺杀測测無无營营異异當当簽签節节細细絨绒統统絲丝綁绑綠绿綢绸維维總总聽听藍蓝襯衬見见視视\
覺觉覽览觀观評评試试詳详認认誤误誰谁調调諮咨講讲識识議议護护貳贰貴贵賠赔賬账載载輸输週周\
進进遠远選选銷销鐵铁閃闪須须顯显黃黄啟启況况難难雖虽兩两隻只擔担憑凭歲岁層层廳厅燈灯環环\
現现畫画盡尽確确離离穩稳競竞筆笔範范籃篮終终組组經经綜综緣缘練练縮缩績绩繳缴續续罰罚聲声\
腳脚臉脸艙舱蘋苹蟲虫製制複复許许詞词誠诚課课談谈諾诺譯译變变豐丰負负財财販贩責责貸贷貼贴\
賀贺賞赏賺赚趕赶跡迹蹤踪軌轨輕轻輛辆輪轮辦办農农遲迟遺遗醫医釋释針针鈔钞鍵键鎖锁閉闭閒闲\
閱阅階阶險险雞鸡靈灵響响頂顶項项順顺頻频風风飛飞飯饭館馆馬马騎骑備备鑽钻貓猫狗狗罩罩嬰婴\
兒儿童童歲岁鏡镜錶表綫线盤盘燒烧殼壳";

/// The pairs sorted by traditional character, searched by halving. Built at the first
/// Han character: cheaper to build than a hash map (a start that builds the synonyms pays
/// for it), and as quick to search at this size.
fn table() -> &'static [(char, char)] {
    static TABLE: OnceLock<Vec<(char, char)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let chars: Vec<char> = PAIRS.chars().filter(|c| !c.is_whitespace()).collect();
        let mut pairs: Vec<(char, char)> =
            chars.chunks_exact(2).filter(|pair| pair[0] != pair[1]).map(|pair| (pair[0], pair[1])).collect();
        // A character listed twice has the same simplified form each time (a test holds it).
        pairs.sort_unstable();
        pairs.dedup_by_key(|pair| pair.0);
        pairs
    })
}

/// The simplified form of `c`, or `c` itself.
pub fn simplified(c: char) -> char {
    // Every traditional character of the table is a CJK ideograph (U+3400 on): letters,
    // digits and punctuation pass without a search.
    if c < '\u{3400}' {
        return c;
    }
    let table = table();
    table.binary_search_by_key(&c, |pair| pair.0).map_or(c, |i| table[i].1)
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
    fn traditional_characters_beyond_orders_fold_too() {
        let folded: String = "驗證碼選擇藍色進度週末".chars().map(simplified).collect();
        assert_eq!(folded, "验证码选择蓝色进度周末");
    }

    #[test]
    fn the_pair_table_is_well_formed() {
        let chars: Vec<char> = PAIRS.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(chars.len() % 2, 0, "every traditional character has its simplified form");
        let mut forms = std::collections::HashMap::new();
        for pair in chars.chunks_exact(2).filter(|pair| pair[0] != pair[1]) {
            assert!(pair[0] >= '\u{3400}', "{} is below the ideographs simplified() searches", pair[0]);
            let form = *forms.entry(pair[0]).or_insert(pair[1]);
            assert_eq!(form, pair[1], "{} is listed with two simplified forms", pair[0]);
        }
    }

    #[test]
    fn kb_synonyms_fold_every_listed_character_as_the_hash_map_did() {
        // The table before: a hash map of the pairs, later pairs winning.
        let chars: Vec<char> = PAIRS.chars().filter(|c| !c.is_whitespace()).collect();
        let map: std::collections::HashMap<char, char> =
            chars.chunks_exact(2).filter(|pair| pair[0] != pair[1]).map(|pair| (pair[0], pair[1])).collect();
        for c in chars.iter().copied().chain(['a', 'Z', '7', '?', '\u{3000}', '\u{FF21}', '中', '𠀀']) {
            assert_eq!(simplified(c), map.get(&c).copied().unwrap_or(c), "{c}");
        }
    }
}
