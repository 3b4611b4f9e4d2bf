"""The author-name masking rule (pure)."""

from storage.privacy import mask_author


def test_mask_keeps_first_character_and_hides_length() -> None:
    assert mask_author("张小明") == "张***"
    assert mask_author("张三") == "张***"  # same mask whatever the length
    assert mask_author(" Alice ") == "A***"


def test_one_character_and_empty_names() -> None:
    assert mask_author("王") == "***"  # its first character would be the whole name
    assert mask_author("") == ""
    assert mask_author(None) is None
