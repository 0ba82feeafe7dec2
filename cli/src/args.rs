//! The command line.

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER: &str = "\
Environment: CONNECTOR_BASE_URL and CONNECTOR_API_KEY override the config file;
CONNECTOR_CONFIG names the file (default $XDG_CONFIG_HOME/connector/config.json,
else ~/.config/connector/config.json).

Exit codes: 0 ok · 1 API or provider error · 2 usage or invalid request ·
3 not logged in, key refused or role too weak · 4 not found ·
5 conflict or waiting for approval · 6 cannot reach the server";

#[derive(Debug, Parser)]
#[command(
    name = "connector",
    version,
    about = "The connector marketplace from the command line: browse the catalog, install and test connectors, call tools, decide approvals.",
    after_help = AFTER
)]
pub struct Cli {
    /// Print the API's JSON answer verbatim (for scripts) instead of tables.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store the API's base URL and a key (checked with a real request first).
    Login(Login),
    /// Forget the stored key (removes the config file).
    Logout,
    /// Browse the catalog of listings.
    #[command(subcommand)]
    Catalog(Catalog),
    /// Install, inspect, test and remove connectors.
    #[command(subcommand)]
    Connectors(Connectors),
    /// Call a connector's tools.
    #[command(subcommand)]
    Tools(Tools),
    /// What consumers (agents, workflows) are granted.
    #[command(subcommand)]
    Consumers(Consumers),
    /// Configure MCP clients for the agent gateway.
    #[command(subcommand)]
    Mcp(Mcp),
    /// Decide tool calls that wait for a person.
    #[command(subcommand)]
    Approvals(Approvals),
}

#[derive(Debug, Args)]
pub struct Login {
    /// The API's base URL (asked when missing; default http://127.0.0.1:8787).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The API key (asked without echo when missing; prefer that or stdin:
    /// a key on the command line is visible to other local users).
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Catalog {
    /// Search the catalog.
    Search(Search),
    /// One listing: description, auth, config fields, capabilities, tools.
    Show {
        /// The listing id, e.g. github.
        listing: String,
    },
}

#[derive(Debug, Args)]
pub struct Search {
    /// Words to look for in names, descriptions and tags.
    pub query: Option<String>,
    #[arg(long)]
    pub category: Option<String>,
    /// saas, database, hardware, …
    #[arg(long)]
    pub kind: Option<String>,
    /// pat, api_key, basic, conn_string, oauth2, mcp_oauth, none.
    #[arg(long, value_name = "MODE")]
    pub auth_mode: Option<String>,
    /// A capability such as issue.read.
    #[arg(long)]
    pub capability: Option<String>,
    #[arg(long)]
    pub tag: Option<String>,
    /// Only featured listings.
    #[arg(long)]
    pub featured: bool,
    #[command(flatten)]
    pub page: Page,
}

#[derive(Debug, Args, Clone, Default)]
pub struct Page {
    /// At most this many (1–100; the API's default is 20).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: Option<u32>,
    /// The next page, as a previous answer named it.
    #[arg(long)]
    pub cursor: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Connectors {
    /// Install a listing: asks for every config and credential field not given.
    Install(Install),
    /// The tenant's connectors, newest first.
    List(ListConnectors),
    /// One connector.
    Show { id: String },
    /// Run the connector's tools: read tools live, side-effecting ones dry.
    Test {
        id: String,
        /// Only these tools (repeatable).
        #[arg(long = "tool", value_name = "TOOL")]
        tools: Vec<String>,
    },
    /// Check the connector's health now.
    Health { id: String },
    /// Uninstall: purges its credentials.
    Rm {
        id: String,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct Install {
    /// The listing id, e.g. github.
    pub listing: String,
    /// The connector's name in the tenant.
    #[arg(long)]
    pub name: Option<String>,
    /// A config (or credential) field: key=value (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = crate::prompt::pair)]
    pub set: Vec<(String, String)>,
    /// A credential field: key=value (repeatable; never echoed).
    #[arg(long = "secret", value_name = "KEY=VALUE", value_parser = crate::prompt::pair)]
    pub secret: Vec<(String, String)>,
    /// OAuth listings: wait until consent is given (polls the connector).
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, in seconds.
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub wait_timeout: u64,
    /// OAuth listings: where the browser goes after consent.
    #[arg(long, value_name = "URL")]
    pub return_url: Option<String>,
    /// Makes a retried install safe (the API replays the first answer).
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListConnectors {
    #[arg(long)]
    pub listing: Option<String>,
    #[arg(long)]
    pub capability: Option<String>,
    #[arg(long)]
    pub kind: Option<String>,
    /// connected, pending_auth or error.
    #[arg(long)]
    pub status: Option<String>,
    #[command(flatten)]
    pub page: Page,
}

#[derive(Debug, Subcommand)]
pub enum Tools {
    /// Call one tool through the connector's stored credential.
    Call(Call),
}

#[derive(Debug, Args)]
pub struct Call {
    /// The connector id (cn_…).
    pub connector: String,
    /// The tool's name, e.g. get_order.
    pub tool: String,
    /// All arguments as one JSON object.
    #[arg(long, value_name = "JSON", conflicts_with = "arg")]
    pub args: Option<String>,
    /// One argument: key=value, the value read as JSON when it is JSON
    /// (42, true, [1], "quoted"), else as a string (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = crate::prompt::pair)]
    pub arg: Vec<(String, String)>,
    /// Only check that the call would work; nothing is written.
    #[arg(long)]
    pub dry_run: bool,
    /// The call's idempotency key (one is made up when absent and shown):
    /// the same key again answers the first receipt and never calls twice.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Consumers {
    /// The tools a consumer's bindings grant (what its MCP tools/list shows).
    Tools { consumer: String },
}

#[derive(Debug, Subcommand)]
pub enum Mcp {
    /// Print the config snippet an MCP client needs for the agent gateway.
    Config(McpConfig),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Client {
    /// Claude Code (.mcp.json; `claude mcp add-json` takes the entry too).
    Claude,
    /// Claude Desktop (claude_desktop_config.json, through the mcp-remote bridge).
    ClaudeDesktop,
    /// Cursor (.cursor/mcp.json or ~/.cursor/mcp.json).
    Cursor,
    /// VS Code (.vscode/mcp.json).
    Vscode,
}

#[derive(Debug, Args)]
pub struct McpConfig {
    #[arg(long, value_enum)]
    pub client: Client,
    /// The consumer the agent key is bound to.
    #[arg(long)]
    pub consumer: String,
    /// The consumer's agent key; without it a placeholder is printed.
    #[arg(long, value_name = "AGENT_KEY")]
    pub key: Option<String>,
    /// The server's name in the client (default connector-<consumer>).
    #[arg(long)]
    pub name: Option<String>,
    /// Do not check --key against the gateway first (offline use).
    #[arg(long)]
    pub no_check: bool,
}

#[derive(Debug, Subcommand)]
pub enum Approvals {
    /// Approvals, newest first.
    List {
        /// pending, approved, denied or expired.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        consumer: Option<String>,
        #[command(flatten)]
        page: Page,
    },
    /// Approve: the held call runs now, once.
    Approve { id: String },
    /// Deny: the held call never runs.
    Deny {
        id: String,
        /// Why (shown to the agent).
        #[arg(long)]
        reason: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("connector").chain(args.iter().copied()))
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn install_takes_repeated_pairs() {
        let c = parse(&[
            "connectors",
            "install",
            "magento",
            "--name",
            "shop",
            "--set",
            "base_url=https://a.example/x?y=1",
            "--secret",
            "key=abc",
            "--json",
        ])
        .unwrap();
        assert!(c.json, "--json is global");
        let Command::Connectors(Connectors::Install(i)) = c.command else {
            panic!()
        };
        assert_eq!(i.listing, "magento");
        assert_eq!(i.name.as_deref(), Some("shop"));
        assert_eq!(
            i.set,
            vec![("base_url".into(), "https://a.example/x?y=1".into())]
        );
        assert_eq!(i.secret, vec![("key".into(), "abc".into())]);
        assert_eq!(i.wait_timeout, 600);
        assert!(parse(&["connectors", "install", "x", "--set", "novalue"]).is_err());
    }

    #[test]
    fn tool_calls_take_json_or_pairs_but_not_both() {
        let c = parse(&[
            "tools",
            "call",
            "cn_1",
            "get_order",
            "--arg",
            "order_id=7",
            "--dry-run",
        ])
        .unwrap();
        let Command::Tools(Tools::Call(t)) = c.command else {
            panic!()
        };
        assert_eq!(
            (t.connector.as_str(), t.tool.as_str()),
            ("cn_1", "get_order")
        );
        assert_eq!(t.arg, vec![("order_id".into(), "7".into())]);
        assert!(t.dry_run && t.args.is_none());
        let e = parse(&["tools", "call", "cn_1", "t", "--args", "{}", "--arg", "a=1"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert_eq!(e.exit_code(), crate::error::USAGE);
    }

    #[test]
    fn search_flags_and_limits() {
        let c = parse(&[
            "catalog",
            "search",
            "git",
            "--featured",
            "--auth-mode",
            "pat",
            "--limit",
            "5",
        ])
        .unwrap();
        let Command::Catalog(Catalog::Search(s)) = c.command else {
            panic!()
        };
        assert_eq!(s.query.as_deref(), Some("git"));
        assert!(s.featured);
        assert_eq!(s.auth_mode.as_deref(), Some("pat"));
        assert_eq!(s.page.limit, Some(5));
        assert!(parse(&["catalog", "search", "--limit", "0"]).is_err());
        assert!(parse(&["catalog", "search", "--limit", "101"]).is_err());
    }

    #[test]
    fn mcp_config_needs_a_known_client_and_a_consumer() {
        let c = parse(&["mcp", "config", "--client", "vscode", "--consumer", "bot"]).unwrap();
        let Command::Mcp(Mcp::Config(m)) = c.command else {
            panic!()
        };
        assert_eq!((m.client, m.consumer.as_str()), (Client::Vscode, "bot"));
        assert!(parse(&["mcp", "config", "--client", "emacs", "--consumer", "b"]).is_err());
        assert!(parse(&["mcp", "config", "--client", "cursor"]).is_err());
        assert!(parse(&[
            "mcp",
            "config",
            "--client",
            "claude-desktop",
            "--consumer",
            "b"
        ])
        .is_ok());
    }

    #[test]
    fn approvals_and_removal() {
        let c = parse(&["approvals", "deny", "ap_1", "--reason", "not today"]).unwrap();
        let Command::Approvals(Approvals::Deny { id, reason }) = c.command else {
            panic!()
        };
        assert_eq!(
            (id.as_str(), reason.as_deref()),
            ("ap_1", Some("not today"))
        );
        let c = parse(&["connectors", "rm", "cn_1", "-y"]).unwrap();
        assert!(matches!(
            c.command,
            Command::Connectors(Connectors::Rm { yes: true, .. })
        ));
        assert!(parse(&["nothing"]).is_err());
    }
}
