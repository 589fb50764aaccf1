"""Headers of outgoing e-mail stay valid whatever citizens write."""
from services.notifications.mailer import message
from services.notifications.render import Email


def test_a_line_break_in_a_title_or_name_gives_a_one_line_header():
    email = Email(subject="New comment on\r\nBenches\nin the park", text="Hello\n", html="<p>Hello</p>", locale="en")
    msg = message(email, sender="Agora <no-reply@agora.local>", to="ann@example.org", to_name="Ann\nSmith",
                  unsubscribe_url="http://127.0.0.1/unsubscribe?token=x")
    assert msg["Subject"] == "New comment on Benches in the park"
    assert "\n" not in msg["To"] and "Ann Smith" in msg["To"]
    assert b"Subject: New comment on Benches in the park" in msg.as_bytes()
