//! Replays every command block of README.md against a fresh local desk, as a person would
//! type it, and compares each command's output with what the README shows below it.
//!
//! The walk-throughs promise to run as written, on one desk, in any order and at any hour.
//! So the blocks run on one desk in README order and, on a second desk at the same time, in
//! reverse: every pair of walk-throughs runs in both orders. The only changes made to the
//! text: the desk's port for 3000, a directory of the test's own for /tmp, and
//! `cargo run -q -p omnidesk-local -- …` runs the binary cargo already built for this test
//! (with the desk's config). A person pauses after sending something; the replay waits a
//! second after each command that posts, puts or patches, so the desk has routed it.

mod blocks;
mod desk;
mod expect;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use blocks::{Block, Step, sh_blocks};
use desk::{Desk, README_ADDRESS};

const README: &str = include_str!("../../../../README.md");

/// Blocks not replayed, by section, and why.
const NOT_REPLAYED: [(&str, &str); 3] = [
    ("Quick start", "starts a desk and runs the test suite; the replay starts its own desk"),
    ("The agent console", "builds with npm and starts a desk; scripts/browser-test.sh runs the console"),
    ("Deploying", "needs an AWS account"),
];

/// How long one command may take; a command that waits for something (`until …`) longer.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
const WAITING_COMMAND_TIMEOUT: Duration = Duration::from_secs(300);
/// The pause after a command that sends something to the desk.
const PAUSE_AFTER_SENDING: &str = "sleep 1";
const MARK: &str = "@@omnidesk-readme-replay";

#[test]
fn readme_walk_throughs_run_as_written_on_one_desk_in_any_order_at_any_hour() {
    require_tools();
    let blocks: Vec<Block> = sh_blocks(README)
        .into_iter()
        .filter(|block| !NOT_REPLAYED.iter().any(|(section, _)| block.section == *section))
        .collect();
    for (section, _) in NOT_REPLAYED {
        assert!(
            sh_blocks(README).iter().any(|b| b.section == section),
            "NOT_REPLAYED names section {section:?}, which has no sh block any more"
        );
    }
    for heading in README.lines().filter_map(|l| l.strip_prefix("## Walk-through")) {
        assert!(
            blocks.iter().any(|b| format!("## {}", b.section).ends_with(heading)),
            "walk-through {heading:?} has no sh block to replay"
        );
    }
    assert!(
        blocks.iter().any(|b| b.steps.iter().any(|s| s.command.contains("sla_notified"))),
        "the SLA walk-through's block is replayed"
    );
    let forward: Vec<&Block> = blocks.iter().collect();
    let backward: Vec<&Block> = blocks.iter().rev().collect();
    let started = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs = [("README order", forward), ("reverse order", backward)]
            .map(|(order, blocks)| scope.spawn(move || replay(order, &blocks)));
        runs.into_iter().filter_map(|run| run.join().expect("replay thread").err()).collect()
    });
    println!("replayed {} blocks in two orders in {:.0?}", blocks.len(), started.elapsed());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The walk-throughs use curl and jq; say so rather than fail obscurely.
fn require_tools() {
    for tool in ["bash", "curl", "jq"] {
        let ran = Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
        assert!(matches!(ran, Ok(s) if s.success()), "the README walk-throughs need {tool} on PATH");
    }
}

/// All `blocks`, in this order, on one fresh desk.
fn replay(order: &str, blocks: &[&Block]) -> Result<(), String> {
    let slug = order.replace(' ', "-");
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("readme-replay-{slug}-{}", std::process::id()));
    let desk = Desk::start(&dir)?;
    for block in blocks {
        let started = Instant::now();
        run_block(&desk, block).map_err(|failure| {
            format!(
                "README.md block at line {} ({}), {order} on a fresh desk:\n{failure}\n--- desk log (end) ---\n{}",
                block.line,
                block.section,
                desk.log()
            )
        })?;
        println!(
            "{order}: block at README line {} ({}) in {:.1?}",
            block.line,
            block.section,
            started.elapsed()
        );
    }
    drop(desk);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn run_block(desk: &Desk, block: &Block) -> Result<(), String> {
    let tmp = desk.dir.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let script_path = desk.dir.join(format!("block-{}.sh", block.line));
    std::fs::write(&script_path, script(desk, block, &tmp)).map_err(|e| e.to_string())?;
    let mut bash = Command::new("bash")
        .arg(&script_path)
        .current_dir(&desk.dir)
        .env("OMNIDESK_LOCAL_BIN", desk::binary())
        .env("OMNIDESK_LOCAL_CONFIG", &desk.config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("bash: {e}"))?;
    let result = watch(&mut bash, block);
    if result.is_err() {
        stop_group(&bash);
    }
    let _ = bash.wait();
    result
}

/// The block as one bash script: each command between markers carrying its index and exit
/// status, so the output can be cut per command.
fn script(desk: &Desk, block: &Block, tmp: &Path) -> String {
    let mut script = String::from(
        "exec 2>&1\n\
         cargo() {\n  \
           if [ \"$1 $2 $3 $4 $5\" = 'run -q -p omnidesk-local --' ]; then\n    \
             shift 5; \"$OMNIDESK_LOCAL_BIN\" --config \"$OMNIDESK_LOCAL_CONFIG\" \"$@\"\n  \
           else echo \"replay: only 'cargo run -q -p omnidesk-local -- …' is replayed, not: cargo $*\"; return 127; fi\n\
         }\n",
    );
    for (index, step) in block.steps.iter().enumerate() {
        let command = step
            .command
            .replace(README_ADDRESS, &format!("127.0.0.1:{}", desk.port))
            .replace("/tmp/", &format!("{}/", tmp.display()));
        script.push_str(&format!("printf '\\n{MARK} begin {index}\\n'\n{command}"));
        script.push_str(&format!("__rc=$?; printf '\\n{MARK} end {index} %d\\n' \"$__rc\"\n"));
        if sends(step) {
            script.push_str(PAUSE_AFTER_SENDING);
            script.push('\n');
        }
    }
    script
}

fn sends(step: &Step) -> bool {
    let c = &step.command;
    c.contains("curl") && (c.contains(" -d ") || c.contains("--data") || c.contains(" -X "))
}

fn timeout(step: &Step) -> Duration {
    if step.command.contains("until ") || step.command.contains("while ") {
        WAITING_COMMAND_TIMEOUT
    } else {
        COMMAND_TIMEOUT
    }
}

/// Reads the script's output as it comes, checking each command when it ends and stopping
/// one that runs past its timeout.
fn watch(bash: &mut Child, block: &Block) -> Result<(), String> {
    let stdout = bash.stdout.take().ok_or("no stdout")?;
    let (lines, received) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).map(|n| n > 0).unwrap_or(false) {
            if lines.send(String::from_utf8_lossy(&line).into_owned()).is_err() {
                break;
            }
            line.clear();
        }
    });
    let mut running: Option<(usize, Instant)> = None;
    let mut output = String::new();
    let mut finished = 0;
    loop {
        match received.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => match line.trim_end().strip_prefix(MARK) {
                Some(mark) => {
                    let words: Vec<&str> = mark.split_whitespace().collect();
                    let index: usize = words.get(1).and_then(|w| w.parse().ok()).ok_or("bad marker")?;
                    if words[0] == "begin" {
                        running = Some((index, Instant::now()));
                        output.clear();
                    } else {
                        let status: i32 = words.get(2).and_then(|w| w.parse().ok()).unwrap_or(-1);
                        verify(&block.steps[index], status, &output)?;
                        running = None;
                        finished += 1;
                    }
                }
                None => output.push_str(&line),
            },
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if let Some((index, since)) = running {
            let step = &block.steps[index];
            if since.elapsed() > timeout(step) {
                return Err(failure(step, &format!("still running after {:?}", timeout(step)), &output));
            }
        }
    }
    if finished < block.steps.len() {
        return Err(format!(
            "the block stopped after {finished} of {} commands:\n{output}",
            block.steps.len()
        ));
    }
    Ok(())
}

/// The command succeeded and printed what the README shows; a command the README shows no
/// output for must not answer an error.
fn verify(step: &Step, status: i32, output: &str) -> Result<(), String> {
    if status != 0 {
        return Err(failure(step, &format!("exit status {status}"), output));
    }
    if step.expected.is_empty() {
        let error_answer = output.contains("\"error\":{") || output.contains("\"error\": {");
        let error_status = output.lines().filter_map(|l| l.strip_prefix("HTTP/")).any(|l| {
            l.split_whitespace().nth(1).and_then(|c| c.parse::<u16>().ok()).is_some_and(|c| c >= 400)
        });
        if error_answer || error_status {
            return Err(failure(step, "an error answer where the README shows none", output));
        }
    }
    for expected in &step.expected {
        expect::check(&expected.text, output).map_err(|why| {
            failure(step, &format!("README line {} shows `{}`: {why}", expected.line, expected.text), output)
        })?;
    }
    Ok(())
}

fn failure(step: &Step, why: &str, output: &str) -> String {
    let shown: String = output.chars().take(3_000).collect();
    let command = step.command.trim_end().replace('\n', "\n  ");
    format!("README line {}:\n  {command}\n{why}\noutput:\n{shown}", step.line)
}

/// Stops the block's bash and everything it started (curl, sleep), by its process group.
fn stop_group(bash: &Child) {
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", bash.id())]).status();
}
