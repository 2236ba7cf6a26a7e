//! `dig` (BIND 9's, from `bind9-dnsutils`) as the DNS client of the tests: one query, its
//! answer parsed into rcode, flags and the records of each section, in order.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::Run;

/// One `dig` query, built up and then [`run`](Dig::run).
///
/// Always `+ignore` (a TC answer is reported, not retried over TCP: the tests look at TC),
/// `+nocookie` (a cookie is an option pathwise forwards as it is; it is no business of these
/// tests and dig's cookie warnings would only be noise), one try, a bounded wait.
#[derive(Clone, Debug)]
pub struct Dig {
    server: SocketAddr,
    name: String,
    qtype: String,
    source: Option<IpAddr>,
    options: Vec<String>,
    timeout_secs: u32,
    netns: Option<String>,
}

impl Dig {
    /// `dig @SERVER -p PORT NAME QTYPE`.
    pub fn new(server: SocketAddr, name: &str, qtype: &str) -> Self {
        Self {
            server,
            name: name.to_owned(),
            qtype: qtype.to_owned(),
            source: None,
            options: Vec::new(),
            timeout_secs: 3,
            netns: None,
        }
    }

    /// `+tcp`.
    pub fn tcp(self) -> Self {
        self.option("+tcp")
    }

    /// `-b SOURCE`: the query's source address (any of 127.0.0.0/8 works on Linux), which is
    /// what pathwise knows a client by.
    pub fn from(mut self, source: &str) -> Self {
        let source = source
            .parse()
            .unwrap_or_else(|e| panic!("source address {source:?}: {e}"));
        self.source = Some(source);
        self
    }

    /// `+ednsopt=CODE`: an empty EDNS0 option with this code.
    pub fn edns_option(self, code: u16) -> Self {
        self.option(&format!("+ednsopt={code}"))
    }

    /// `+dnssec`: the DO bit.
    pub fn dnssec(self) -> Self {
        self.option("+dnssec")
    }

    /// `+noedns`: no OPT record, so a 512-byte UDP limit.
    pub fn no_edns(self) -> Self {
        self.option("+noedns")
    }

    /// `+time=SECS`: how long dig waits for the answer (default 3).
    pub fn timeout(mut self, secs: u32) -> Self {
        self.timeout_secs = secs;
        self
    }

    /// Runs dig inside this network namespace (`ip netns exec NAME dig ...`).
    pub fn in_netns(mut self, name: &str) -> Self {
        self.netns = Some(name.to_owned());
        self
    }

    /// Any other dig option, e.g. `+bufsize=4096`.
    pub fn option(mut self, option: &str) -> Self {
        self.options.push(option.to_owned());
        self
    }

    pub(crate) fn command(&self) -> Command {
        let mut command = match &self.netns {
            Some(name) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", name, "dig"]);
                command
            }
            None => Command::new("dig"),
        };
        command
            .arg(format!("@{}", self.server.ip()))
            .args(["-p", &self.server.port().to_string()]);
        if let Some(source) = self.source {
            command.args(["-b", &source.to_string()]);
        }
        command
            .args([&self.name, &self.qtype])
            .args([
                "+noall",
                "+comments",
                "+answer",
                "+authority",
                "+additional",
            ])
            .args(["+ignore", "+nocookie", "+tries=1"])
            .arg(format!("+time={}", self.timeout_secs))
            .args(&self.options);
        command
    }

    /// Runs the query. Panics, with dig's command line and output, when dig got no answer.
    pub fn run(&self) -> DigAnswer {
        let started = Instant::now();
        let run = Run::command(&mut self.command());
        let elapsed = started.elapsed();
        run.success();
        DigAnswer::parse(run, elapsed)
    }
}

/// One resource record as dig prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Owner name, absolute (`dual.pathwise.test.`).
    pub name: String,
    /// TTL in seconds.
    pub ttl: u32,
    /// Type mnemonic (`AAAA`, `CNAME`, `HTTPS`, ...).
    pub rtype: String,
    /// The data in dig's presentation form, e.g. `2a00:1450:4001::1`.
    pub data: String,
}

/// What dig printed for one query, parsed.
#[derive(Debug)]
pub struct DigAnswer {
    run: Run,
    /// How long dig took, start to exit.
    pub elapsed: Duration,
    /// The message ID of the answer (`id:` of the header line).
    pub id: u16,
    /// `status:` of the header line: `NOERROR`, `NXDOMAIN`, `REFUSED`, ...
    pub rcode: String,
    /// The header flags, lower-case: `qr`, `aa`, `tc`, `rd`, `ra`, `ad`, `cd`.
    pub flags: Vec<String>,
    /// The EDNS line (`; EDNS: version: 0, flags: do; udp: 1232`), when there was an OPT.
    pub edns: Option<String>,
    /// The answer section, in order.
    pub answer: Vec<Record>,
    /// The authority section, in order.
    pub authority: Vec<Record>,
    /// The additional section (without the OPT pseudo-record), in order.
    pub additional: Vec<Record>,
}

#[derive(Clone, Copy)]
enum Section {
    None,
    Answer,
    Authority,
    Additional,
}

impl DigAnswer {
    fn parse(run: Run, elapsed: Duration) -> Self {
        let mut answer = Self {
            run,
            elapsed,
            id: 0,
            rcode: String::new(),
            flags: Vec::new(),
            edns: None,
            answer: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
        };
        let text = answer.run.stdout().to_owned();
        let mut section = Section::None;
        for line in text.lines() {
            let line = line.trim_end();
            if line.is_empty() {
                section = Section::None;
            } else if let Some(rest) = line.strip_prefix(";; ->>HEADER<<-") {
                answer.rcode = field(rest, "status:").unwrap_or_default();
                answer.id = field(rest, "id:")
                    .and_then(|id| id.parse().ok())
                    .unwrap_or_default();
            } else if let Some(rest) = line.strip_prefix(";; flags:") {
                let flags = rest.split(';').next().unwrap_or_default();
                answer.flags = flags.split_whitespace().map(str::to_owned).collect();
            } else if line.starts_with("; EDNS:") {
                answer.edns = Some(line.to_owned());
            } else if line.starts_with(";; ANSWER SECTION:") {
                section = Section::Answer;
            } else if line.starts_with(";; AUTHORITY SECTION:") {
                section = Section::Authority;
            } else if line.starts_with(";; ADDITIONAL SECTION:") {
                section = Section::Additional;
            } else if line.starts_with(';') {
                // Other comments (warnings, the OPT pseudo-section) and section headers.
                if line.starts_with(";; ") && line.ends_with("SECTION:") {
                    section = Section::None;
                }
            } else {
                let Some(record) = parse_record(line) else {
                    answer.fail(format!("cannot parse the record line {line:?}"));
                };
                match section {
                    Section::Answer => answer.answer.push(record),
                    Section::Authority => answer.authority.push(record),
                    Section::Additional => answer.additional.push(record),
                    Section::None => answer.fail(format!("a record outside a section: {line:?}")),
                }
            }
        }
        if answer.rcode.is_empty() {
            answer.fail("no `->>HEADER<<-` line with a status");
        }
        answer
    }

    /// The command line that was run.
    pub fn command_line(&self) -> &str {
        self.run.command_line()
    }

    /// dig's whole output.
    pub fn output(&self) -> &str {
        self.run.stdout()
    }

    /// Whether the header has this flag (`tc`, `ad`, `aa`, ...).
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    /// The data of the answer records of this type, in order.
    pub fn answers(&self, rtype: &str) -> Vec<&str> {
        data_of(&self.answer, rtype)
    }

    /// The data of the additional records of this type, in order.
    pub fn additionals(&self, rtype: &str) -> Vec<&str> {
        data_of(&self.additional, rtype)
    }

    /// The types of the answer records, in order.
    pub fn answer_types(&self) -> Vec<&str> {
        self.answer.iter().map(|r| r.rtype.as_str()).collect()
    }

    /// Asserts `ok`; when false, panics with `what`, the command line and dig's output.
    pub fn check(&self, ok: bool, what: impl fmt::Display) -> &Self {
        if !ok {
            self.fail(what);
        }
        self
    }

    /// Asserts the rcode.
    pub fn rcode_is(&self, rcode: &str) -> &Self {
        self.check(self.rcode == rcode, format!("expected status {rcode}"))
    }

    /// Asserts the data of the answer records of `rtype`, in order.
    pub fn answers_are(&self, rtype: &str, expected: &[&str]) -> &Self {
        self.check(
            self.answers(rtype) == expected,
            format!("expected the {rtype} answer records {expected:?}, in this order"),
        )
    }

    /// Panics with `what`, the command line and dig's output.
    pub fn fail(&self, what: impl fmt::Display) -> ! {
        panic!("{what}\n{self}")
    }
}

impl fmt::Display for DigAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "--- dig: {}", self.run.command_line())?;
        writeln!(f, "--- took {:?}", self.elapsed)?;
        // Tabs become spaces: test runners that indent captured output (nextest) drop tabs.
        write!(f, "--- output:\n{}", self.run.stdout().replace('\t', " "))?;
        if !self.run.stderr().is_empty() {
            write!(f, "\n--- stderr:\n{}", self.run.stderr())?;
        }
        Ok(())
    }
}

fn data_of<'a>(records: &'a [Record], rtype: &str) -> Vec<&'a str> {
    records
        .iter()
        .filter(|r| r.rtype == rtype)
        .map(|r| r.data.as_str())
        .collect()
}

/// `status: NOERROR,` -> `NOERROR`.
fn field(text: &str, key: &str) -> Option<String> {
    let start = text.find(key)? + key.len();
    let value = text[start..].trim_start();
    let end = value.find([',', ';', ' ']).unwrap_or(value.len());
    Some(value[..end].to_owned())
}

/// `name TTL CLASS TYPE DATA...`, whitespace-separated (dig uses tabs); the data keeps its
/// inner spacing.
fn parse_record(line: &str) -> Option<Record> {
    let mut rest = line;
    let mut words = Vec::with_capacity(4);
    for _ in 0..4 {
        rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        words.push(&rest[..end]);
        rest = &rest[end..];
    }
    let ttl = words[1].parse().ok()?;
    Some(Record {
        name: words[0].to_owned(),
        ttl,
        rtype: words[3].to_owned(),
        data: rest.trim().to_owned(),
    })
}
