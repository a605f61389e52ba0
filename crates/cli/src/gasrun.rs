//! The gas ingest transports a `serve` or `demo` process runs beside the web server: the embedded
//! MQTT listener and the client of an external broker (crates/gas `mqtt`).

use crate::config::ServeArgs;
use dianxiaoer_gas::mqtt::client::{self, BrokerUrl};
use dianxiaoer_gas::mqtt::listener;
use dianxiaoer_gas::{ClockFn, GasHandle};
use dianxiaoer_store::Store;

/// Where the demo listens for MQTT when nothing is configured: the protocol's standard port.
pub const DEMO_MQTT_LISTEN: &str = "127.0.0.1:1883";

/// Starts what `args` asks for; returns the listener's address when one runs.
pub async fn start(
    args: &ServeArgs,
    demo: bool,
    gas: &GasHandle,
    store: &Store,
    clock: &ClockFn,
) -> Result<Option<std::net::SocketAddr>, String> {
    if let Some(url) = &args.mqtt_url {
        let url = BrokerUrl::parse(url)?;
        println!("气体读数：订阅外部 MQTT 服务器 {}:{}（客户端标识 {}）", url.host, url.port, url.client_id);
        client::start(url, gas.clone(), clock.clone());
    }
    let wanted = args.mqtt_listen.clone().or_else(|| demo.then(|| DEMO_MQTT_LISTEN.to_owned()));
    let Some(addr) = wanted else { return Ok(None) };
    let open = |a: String| listener::start_owned(a, gas.clone(), store.clone(), clock.clone());
    let l = match open(addr.clone()).await {
        Ok(l) => l,
        Err(e) if demo && e.kind() == std::io::ErrorKind::AddrInUse => {
            eprintln!("MQTT 端口 {addr} 已被占用，改用一个空闲端口。");
            open("127.0.0.1:0".into()).await.map_err(|e| format!("无法监听 MQTT：{e}"))?
        }
        Err(e) => return Err(format!("无法监听 MQTT {addr}：{e}")),
    };
    println!("气体读数 MQTT 接入：mqtt://{}（设备：用户名为位号、密码为设备密钥；网关：密码为 API 密钥）", l.addr);
    Ok(Some(l.addr))
}
