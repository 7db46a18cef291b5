from knowledge.rendering import markdown_to_text, render_markdown


def test_markdown_becomes_readable_text_for_replies():
    text = markdown_to_text(
        "Ett **attefallshus** får vara högst 30 m².\n\n- anmälan\n- startbesked\n\n"
        "Läs mer på [solna.se](https://www.solna.se/attefall) & <script>alert(1)</script>"
    )
    assert text == (
        "Ett attefallshus får vara högst 30 m².\n\n• anmälan\n• startbesked\n\n"
        "Läs mer på solna.se (https://www.solna.se/attefall) &"
    )


def test_pages_get_sanitised_html():
    html = render_markdown("**ok** <img src=x onerror=alert(1)> [x](javascript:alert(1))")
    assert "<strong>ok</strong>" in html and "onerror" not in html and "javascript:" not in html
