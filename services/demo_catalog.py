"""A demo catalog of common commune-level procedures, for development and demonstrations.

Codes and names as in the national database of administrative procedures; processing times and
fees follow the national rules in force at the time of writing but are DEMO values: a deployment
loads the province's own published catalog (quyết định công bố thủ tục hành chính) instead.
"""

from __future__ import annotations

from typing import Any

_CCCD = "Căn cước/CCCD hoặc giấy tờ tùy thân của người yêu cầu (xuất trình)"

_PERSON = {"type": "string", "minLength": 1, "maxLength": 150}
_DATE = {"type": "string", "format": "date"}

BIRTH_FORM: dict[str, Any] = {
    "type": "object",
    "title": "Tờ khai đăng ký khai sinh",
    "required": [
        "child_full_name",
        "child_date_of_birth",
        "child_gender",
        "birth_place",
        "mother_full_name",
        "declarant_relationship",
    ],
    "properties": {
        "child_full_name": {**_PERSON, "title": "Họ, chữ đệm, tên của trẻ"},
        "child_date_of_birth": {**_DATE, "title": "Ngày, tháng, năm sinh"},
        "child_gender": {"type": "string", "enum": ["nam", "nu"], "title": "Giới tính"},
        "ethnicity": {"type": "string", "maxLength": 50, "title": "Dân tộc"},
        "nationality": {"type": "string", "maxLength": 50, "title": "Quốc tịch"},
        "birth_place": {"type": "string", "minLength": 1, "maxLength": 300, "title": "Nơi sinh"},
        "father_full_name": {**_PERSON, "title": "Họ, chữ đệm, tên người cha"},
        "mother_full_name": {**_PERSON, "title": "Họ, chữ đệm, tên người mẹ"},
        "declarant_relationship": {
            "type": "string",
            "enum": ["cha", "me", "ong", "ba", "nguoi_than", "khac"],
            "title": "Quan hệ với người được khai sinh",
        },
    },
    "additionalProperties": False,
}

MARRIAGE_STATUS_FORM: dict[str, Any] = {
    "type": "object",
    "title": "Tờ khai cấp Giấy xác nhận tình trạng hôn nhân",
    "required": ["purpose"],
    "properties": {
        "purpose": {
            "type": "string",
            "minLength": 1,
            "maxLength": 300,
            "title": "Mục đích sử dụng",
        },
        "previous_spouse": {**_PERSON, "title": "Vợ/chồng trước đây (nếu có)"},
    },
    "additionalProperties": False,
}

RESIDENCE_FORM: dict[str, Any] = {
    "type": "object",
    "title": "Tờ khai thay đổi thông tin cư trú (CT01)",
    "required": ["address", "reason"],
    "properties": {
        "address": {
            "type": "string",
            "minLength": 1,
            "maxLength": 300,
            "title": "Nơi đề nghị đăng ký",
        },
        "reason": {"type": "string", "minLength": 1, "maxLength": 300, "title": "Lý do"},
        "owner_consent": {"type": "boolean", "title": "Chủ hộ/chủ nhà đã đồng ý"},
    },
    "additionalProperties": False,
}

PROCEDURES: list[dict[str, Any]] = [
    {
        "code": "1.001193",
        "name": "Thủ tục đăng ký khai sinh",
        "field": "Hộ tịch",
        "level": "commune",
        "online_level": "full",
        "processing_time": 1,
        "fee": 0,
        "fee_note": "Miễn lệ phí đăng ký khai sinh đúng hạn.",
        "household_required": True,
        "form_schema": BIRTH_FORM,
        "documents": [
            ("Tờ khai đăng ký khai sinh theo mẫu", True),
            ("Giấy chứng sinh hoặc văn bản thay thế giấy chứng sinh", True),
            (_CCCD, True),
        ],
    },
    {
        "code": "1.000689",
        "name": "Thủ tục đăng ký khai sinh kết hợp nhận cha, mẹ, con",
        "field": "Hộ tịch",
        "level": "commune",
        "online_level": "partial",
        "processing_time": 3,
        "fee": 0,
        "fee_note": "Theo nghị quyết của Hội đồng nhân dân tỉnh.",
        "documents": [
            ("Tờ khai đăng ký khai sinh và tờ khai nhận cha, mẹ, con theo mẫu", True),
            ("Giấy chứng sinh hoặc văn bản thay thế giấy chứng sinh", True),
            ("Chứng cứ chứng minh quan hệ cha, mẹ, con", True),
        ],
    },
    {
        "code": "1.004884",
        "name": "Thủ tục đăng ký lại khai sinh",
        "field": "Hộ tịch",
        "level": "commune",
        "online_level": "partial",
        "processing_time": 5,
        "fee": 0,
        "fee_note": "Theo nghị quyết của Hội đồng nhân dân tỉnh.",
        "documents": [
            ("Tờ khai đăng ký lại khai sinh theo mẫu", True),
            ("Bản sao giấy tờ, tài liệu có nội dung về khai sinh (nếu có)", False),
        ],
    },
    {
        "code": "1.000656",
        "name": "Thủ tục đăng ký khai tử",
        "field": "Hộ tịch",
        "level": "commune",
        "online_level": "full",
        "processing_time": 1,
        "fee": 0,
        "fee_note": "Miễn lệ phí đăng ký khai tử đúng hạn.",
        "documents": [
            ("Tờ khai đăng ký khai tử theo mẫu", True),
            ("Giấy báo tử hoặc giấy tờ thay thế giấy báo tử", True),
        ],
    },
    {
        "code": "1.000894",
        "name": "Thủ tục đăng ký kết hôn",
        "field": "Hộ tịch",
        "level": "commune",
        "online_level": "partial",
        "processing_time": 5,
        "fee": 0,
        "fee_note": "Hai bên cùng có mặt khi đăng ký; lệ phí theo nghị quyết của HĐND tỉnh.",
        "documents": [
            ("Tờ khai đăng ký kết hôn theo mẫu", True),
            ("Giấy xác nhận tình trạng hôn nhân (khi đăng ký ở nơi không thường trú)", False),
        ],
    },
    {
        "code": "1.004873",
        "name": "Thủ tục cấp Giấy xác nhận tình trạng hôn nhân",
        "field": "Hộ tịch",
        "level": "commune",
        "online_level": "full",
        "processing_time": 3,
        "fee": 0,
        "fee_note": "Theo nghị quyết của Hội đồng nhân dân tỉnh.",
        "form_schema": MARRIAGE_STATUS_FORM,
        "documents": [("Tờ khai cấp Giấy xác nhận tình trạng hôn nhân theo mẫu", True)],
    },
    {
        "code": "1.004222",
        "name": "Đăng ký thường trú",
        "field": "Đăng ký, quản lý cư trú",
        "level": "commune",
        "online_level": "full",
        "processing_time": 7,
        "fee": 0,
        "fee_note": "Theo quy định về lệ phí đăng ký cư trú của Bộ Tài chính.",
        "household_required": True,
        "form_schema": RESIDENCE_FORM,
        "documents": [
            ("Tờ khai thay đổi thông tin cư trú (mẫu CT01)", True),
            ("Giấy tờ, tài liệu chứng minh chỗ ở hợp pháp", True),
        ],
    },
    {
        "code": "1.004194",
        "name": "Đăng ký tạm trú",
        "field": "Đăng ký, quản lý cư trú",
        "level": "commune",
        "online_level": "full",
        "processing_time": 3,
        "fee": 0,
        "fee_note": "Theo quy định về lệ phí đăng ký cư trú của Bộ Tài chính.",
        "form_schema": RESIDENCE_FORM,
        "documents": [
            ("Tờ khai thay đổi thông tin cư trú (mẫu CT01)", True),
            ("Giấy tờ, tài liệu chứng minh chỗ ở hợp pháp", True),
        ],
    },
    {
        "code": "2.000815",
        "name": "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền "
        "của Việt Nam cấp hoặc chứng nhận",
        "field": "Chứng thực",
        "level": "commune",
        "online_level": "partial",
        "processing_time": 1,
        "fee": 2000,
        "fee_note": "2.000 đồng/trang; từ trang thứ ba trở lên 1.000 đồng/trang, "
        "tối đa 200.000 đồng/bản.",
        "documents": [("Bản chính giấy tờ, văn bản cần chứng thực và bản sao", True)],
    },
    {
        "code": "2.000884",
        "name": "Chứng thực chữ ký trong các giấy tờ, văn bản",
        "field": "Chứng thực",
        "level": "commune",
        "online_level": "partial",
        "processing_time": 1,
        "fee": 10000,
        "fee_note": "10.000 đồng/trường hợp; người yêu cầu ký trước mặt người thực hiện.",
        "documents": [
            (_CCCD, True),
            ("Giấy tờ, văn bản cần chứng thực chữ ký", True),
        ],
    },
]
