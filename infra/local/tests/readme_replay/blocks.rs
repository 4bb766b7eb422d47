//! Reads README.md's shell blocks as a person reads them: the commands to type, and after
//! each the output the README shows for it (the `# …` comments right below a command, or
//! after it on the same line).

/// One ```sh block.
pub struct Block {
    /// The `## ` heading the block is under.
    pub section: String,
    /// README line of the opening fence.
    pub line: usize,
    pub steps: Vec<Step>,
}

/// One command (with its continuation lines and here-document bodies) and what it shows.
pub struct Step {
    pub line: usize,
    pub command: String,
    pub expected: Vec<Expected>,
}

/// One line of output the README shows, `…` standing for what varies.
pub struct Expected {
    pub line: usize,
    pub text: String,
}

/// Every ```sh block of `readme`, in order.
pub fn sh_blocks(readme: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut section = String::new();
    let mut open: Option<(usize, Vec<(usize, &str)>)> = None;
    for (index, line) in readme.lines().enumerate() {
        let number = index + 1;
        match &mut open {
            Some((start, lines)) => {
                if line.trim_start().starts_with("```") {
                    blocks.push(Block { section: section.clone(), line: *start, steps: steps(lines) });
                    open = None;
                } else {
                    lines.push((number, line));
                }
            }
            None => {
                if let Some(heading) = line.strip_prefix("## ") {
                    section = heading.trim().to_owned();
                } else if line.trim() == "```sh" {
                    open = Some((number, Vec::new()));
                }
            }
        }
    }
    blocks
}

fn steps(lines: &[(usize, &str)]) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    // Comments right below a command are its output, until a blank line or a numbered step.
    let mut expecting = false;
    let mut i = 0;
    while i < lines.len() {
        let (number, line) = lines[i];
        let trimmed = line.trim();
        if trimmed.is_empty() {
            expecting = false;
            i += 1;
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            match steps.last_mut() {
                Some(step) if expecting && !is_numbered(comment) => {
                    step.expected.push(Expected { line: number, text: comment.trim().to_owned() })
                }
                _ => expecting = false,
            }
            i += 1;
            continue;
        }
        let mut command = String::new();
        let mut inline = None;
        loop {
            let (number, line) = lines[i];
            command.push_str(line);
            command.push('\n');
            i += 1;
            if let Some(word) = heredoc_word(line) {
                while i < lines.len() {
                    let body = lines[i].1;
                    command.push_str(body);
                    command.push('\n');
                    i += 1;
                    if body.trim() == word {
                        break;
                    }
                }
            }
            if let Some(at) = line.find("  # ") {
                inline = Some(Expected { line: number, text: line[at..].trim()[1..].trim().to_owned() });
            }
            if !continues(line) || i >= lines.len() {
                break;
            }
        }
        steps.push(Step { line: number, command, expected: inline.into_iter().collect() });
        expecting = true;
    }
    steps
}

/// `# 3. The ticket…`: the start of the next step's explanation, not output.
fn is_numbered(comment: &str) -> bool {
    let comment = comment.trim_start();
    let digits = comment.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && comment[digits..].starts_with('.')
}

/// The terminator of a here-document the line opens (`<<'JSON'`, `<<MAIL`, `<<-EOF`).
fn heredoc_word(line: &str) -> Option<String> {
    let at = line.find("<<")?;
    let rest = line[at + 2..].strip_prefix('-').unwrap_or(&line[at + 2..]);
    if rest.starts_with('<') {
        return None;
    }
    let word: String = rest
        .trim_start()
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

/// A line the shell continues on the next one.
fn continues(line: &str) -> bool {
    let line = line.trim_end();
    line.ends_with('\\') || line.ends_with('|') || line.ends_with("&&")
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = "# t\n## Walk-through: x\n\n```sh\n# 1. Write.\ncat > /tmp/a <<'JSON'\n\
        {\"a\":1}\nJSON\necho \"$A\"     # A: 1\ncurl -s \\\n  http://x/y\n# {\"ok\":true}\n\
        #  \"more\":1}\n# 2. Next.\nN=$(curl -s x |\n  jq .n)\n\n# not output\n```\n## Other\n";

    #[test]
    fn commands_keep_their_continuations_here_documents_and_shown_output() {
        let blocks = sh_blocks(README);
        assert_eq!(blocks.len(), 1);
        let block = &blocks[0];
        assert_eq!((block.section.as_str(), block.line), ("Walk-through: x", 4));
        let commands: Vec<&str> = block.steps.iter().map(|s| s.command.as_str()).collect();
        assert_eq!(
            commands,
            [
                "cat > /tmp/a <<'JSON'\n{\"a\":1}\nJSON\n",
                "echo \"$A\"     # A: 1\n",
                "curl -s \\\n  http://x/y\n",
                "N=$(curl -s x |\n  jq .n)\n"
            ]
        );
        let shown: Vec<Vec<&str>> =
            block.steps.iter().map(|s| s.expected.iter().map(|e| e.text.as_str()).collect()).collect();
        assert_eq!(shown, [vec![], vec!["A: 1"], vec!["{\"ok\":true}", "\"more\":1}"], vec![]]);
        assert_eq!(block.steps[2].expected[0].line, 12);
    }
}
