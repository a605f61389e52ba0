//! `dianxiaoer user …`: account management from the server's command line, the only place where the
//! three admin accounts are created (三权分立: no admin can make another).

use crate::config::UserCommand;
use dianxiaoer_core::access::{Attachment, Role};
use dianxiaoer_core::credit_code::CreditCode;
use dianxiaoer_store::{Actor, NewUser, Store};
use dianxiaoer_web::hash_password;

/// A random initial password meeting the default policy (all four character classes, 16 characters).
pub fn initial_password() -> String {
    const SETS: [&[u8]; 4] = [b"ABCDEFGHJKLMNPQRSTUVWXYZ", b"abcdefghijkmnpqrstuvwxyz", b"23456789", b"@#%+=!"];
    let token = dianxiaoer_store::sessions::random_token(16);
    token
        .as_bytes()
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| {
            let v = pair.iter().fold(0usize, |a, b| a * 31 + usize::from(*b));
            let set = SETS[i % 4];
            set[v % set.len()] as char
        })
        .collect()
}

async fn user_id(store: &Store, username: &str) -> Result<i64, String> {
    store
        .user_by_username(username)
        .await
        .map_err(|e| e.to_string())?
        .map(|u| u.id)
        .ok_or_else(|| format!("用户“{username}”不存在"))
}

pub async fn run(store: &Store, cmd: UserCommand, now: i64) -> Result<(), String> {
    let actor = Actor::cli();
    match cmd {
        UserCommand::Add { username, name, role, department, town, grid, enterprise } => {
            let role = Role::parse(&role).ok_or_else(|| format!("未知角色“{role}”"))?;
            let mut at = Attachment { town_code: town, grid_id: grid, ..Default::default() };
            if let Some(d) = department {
                let dept = store.department_by_name(&d).await.map_err(|e| e.to_string())?;
                at.department_id = Some(dept.ok_or_else(|| format!("部门“{d}”不存在"))?.id);
            }
            if let Some(code) = enterprise {
                let code = CreditCode::parse(&code).map_err(|e| e.message)?;
                let id = store.enterprise_id_by_credit_code(&code).await.map_err(|e| e.to_string())?;
                at.enterprise_id = Some(id.ok_or("该统一社会信用代码尚未登记")?);
            }
            if let Some(t) = &at.town_code {
                dianxiaoer_core::division::town_by_code(t).ok_or_else(|| format!("未知乡镇代码“{t}”"))?;
            }
            let password = initial_password();
            let new = NewUser {
                username: username.clone(),
                display_name: name,
                role,
                attachment: at,
                phone: String::new(),
                password_hash: hash_password(&password).map_err(|e| format!("{e:?}"))?,
                must_change_password: true,
                demo: false,
            };
            store.create_user(&actor, &new, now).await.map_err(|e| e.to_string())?;
            println!("已创建用户 {username}（{}）。初始密码：{password}", role.label());
            println!("首次登录须修改密码{}。", if role.is_admin() { "并绑定动态口令" } else { "" });
        }
        UserCommand::ResetPassword { username } => {
            let id = user_id(store, &username).await?;
            let password = initial_password();
            let hash = hash_password(&password).map_err(|e| format!("{e:?}"))?;
            store.set_password(&actor, id, &hash, true, now).await.map_err(|e| e.to_string())?;
            println!("已重置 {username} 的密码，其会话已全部结束。新初始密码：{password}");
        }
        UserCommand::Disable { username } => {
            let id = user_id(store, &username).await?;
            store.set_disabled(&actor, id, true, now).await.map_err(|e| e.to_string())?;
            println!("已停用 {username}，其会话已全部结束。");
        }
        UserCommand::Enable { username } => {
            let id = user_id(store, &username).await?;
            store.set_disabled(&actor, id, false, now).await.map_err(|e| e.to_string())?;
            println!("已启用 {username}。");
        }
        UserCommand::EndSessions { username } => {
            let id = user_id(store, &username).await?;
            let n = store.end_sessions(&actor, id, now).await.map_err(|e| e.to_string())?;
            println!("已结束 {username} 的 {n} 个会话。");
        }
    }
    Ok(())
}
