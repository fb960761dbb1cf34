"""The webhook's field vocabulary: the spellings it maps onto a lead, the columns a form may
not set, and each column's limit, read from the Lead model."""

from decimal import Decimal

from hushmetrics.serializers import column_max_length
from leads.models import Lead

MAX_NAME = column_max_length(Lead, "name")
MAX_EMAIL = column_max_length(Lead, "email")
MAX_PHONE = column_max_length(Lead, "phone")
MAX_PAGE_URL = column_max_length(Lead, "page_url")
_VALUE = Lead._meta.get_field("value")
# The smallest step of a lead's value (0.01) and the largest value its column holds.
CENT = Decimal(1).scaleb(-_VALUE.decimal_places)
MAX_VALUE = Decimal(10) ** (_VALUE.max_digits - _VALUE.decimal_places) - CENT
ZERO = Decimal(0).quantize(CENT)

# The one vocabulary table: each role → its spellings, as `canonical` writes them (lower case,
# accents dropped, `_` for any run of punctuation or spaces), in English, Spanish, Portuguese,
# French, German and Italian. The lead's columns (name and its parts, email, phone, page_url,
# source, value) are filled from these; `company` and `message` have no column and stay in
# extra_data under the posted key, and `role_of` names them for whoever reads a lead.
# A word that means "name" in one form and "first name" in another (es/pt/it `nombre`,
# `nome`) is a first name, and the French `nom` a last name: alone, it is still the whole
# name (a name is composed of its parts); beside its pair, the two are joined.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "name": (
        # en / de
        "name", "names", "full_name", "fullname", "your_name", "contact_name",
        "customer_name", "ihr_name", "vollstandiger_name", "vor_und_nachname",
        # es
        "nombre_completo", "nombre_y_apellidos", "nombre_y_apellido", "nombre_apellidos",
        # pt
        "nome_completo", "nome_e_sobrenome",
        # fr
        "nom_complet", "nom_et_prenom", "prenom_et_nom", "nom_prenom", "prenom_nom",
        # it
        "nome_e_cognome", "nome_cognome", "nominativo",
    ),
    "first_name": (
        "first_name", "firstname", "first", "fname", "given_name", "your_first_name",
        "nombre", "tu_nombre", "su_nombre", "primer_nombre",  # es
        "nome", "seu_nome", "primeiro_nome",  # pt, it
        "prenom", "votre_prenom",  # fr
        "vorname", "ihr_vorname",  # de
        "il_tuo_nome", "tuo_nome",  # it
    ),
    "last_name": (
        "last_name", "lastname", "last", "lname", "surname", "family_name", "your_last_name",
        "apellido", "apellidos", "primer_apellido",  # es
        "sobrenome", "apelido", "ultimo_nome",  # pt
        "nom", "nom_de_famille", "votre_nom",  # fr
        "nachname", "familienname", "zuname", "ihr_nachname",  # de
        "cognome", "il_tuo_cognome",  # it
    ),
    "middle_name": ("middle_name", "middle"),
    "email": (
        "email", "e_mail", "email_address", "e_mail_address", "emailaddress", "your_email",
        "mail", "replyto", "reply_to",  # Formspree's `_replyto`
        "correo", "correo_electronico", "tu_correo", "tu_email", "direccion_de_correo",  # es
        "direccion_de_correo_electronico", "direccion_de_email",
        "endereco_de_email", "endereco_de_e_mail", "seu_email", "seu_e_mail",  # pt
        "correio_eletronico",
        "courriel", "adresse_email", "adresse_e_mail", "adresse_mail", "votre_email",  # fr
        "votre_e_mail", "adresse_courriel",
        "e_mail_adresse", "email_adresse", "emailadresse", "ihre_e_mail_adresse",  # de
        "ihre_email", "ihre_e_mail",
        "indirizzo_email", "indirizzo_e_mail", "posta_elettronica", "la_tua_email",  # it
        "tua_email",
    ),
    "phone": (
        "phone", "tel", "telephone", "phone_number", "phonenumber", "your_phone", "your_tel",
        "mobile", "mobile_phone", "mobile_number",
        "telefono", "numero_de_telefono", "celular", "movil", "tu_telefono",  # es (it)
        "telefono_movil",
        "telefone", "numero_de_telefone", "telemovel", "seu_telefone",  # pt
        "numero_de_telephone", "portable", "votre_telephone", "telephone_portable",  # fr
        "telefon", "telefonnummer", "handy", "handynummer", "mobilnummer",  # de
        "mobiltelefon", "ihre_telefonnummer",
        "numero_di_telefono", "cellulare", "recapito_telefonico", "il_tuo_telefono",  # it
    ),
    "company": (
        "company", "company_name", "your_company", "organization", "organisation",
        "business", "business_name",
        "empresa", "compania", "nombre_de_la_empresa", "organizacion", "tu_empresa",  # es, pt
        "companhia", "nome_da_empresa", "organizacao", "sua_empresa",  # pt
        "entreprise", "societe", "nom_de_l_entreprise", "votre_entreprise",  # fr
        "firma", "unternehmen", "firmenname", "ihre_firma",  # de
        "azienda", "societa", "nome_azienda", "ditta", "la_tua_azienda",  # it
    ),
    "message": (
        "message", "your_message", "comments", "comment", "enquiry", "inquiry",
        "mensaje", "tu_mensaje", "comentario", "comentarios", "consulta",  # es, pt
        "mensagem", "sua_mensagem",  # pt
        "votre_message", "commentaire", "commentaires",  # fr
        "nachricht", "ihre_nachricht", "mitteilung", "kommentar",  # de
        "messaggio", "il_tuo_messaggio", "commento", "commenti",  # it
    ),
    "page_url": (
        "page_url", "pageurl", "source_url", "landing_page", "landing_page_url", "page_uri",
    ),
    "source": ("source", "lead_source"),
    "value": ("value", "lead_value", "deal_value"),
}  # fmt: skip
# Roles with no column of their own: the field stays in extra_data under its posted key.
EXTRA_ROLES = frozenset({"company", "message"})
# Canonical spelling → the lead field it fills.
ALIASES: dict[str, str] = {
    spelling: role
    for role, spellings in VOCABULARY.items()
    if role not in EXTRA_ROLES
    for spelling in spellings
}
# Canonical spelling → its role, columns and extra roles alike (see `helpers.role_of`).
ROLES: dict[str, str] = {
    spelling: role for role, spellings in VOCABULARY.items() for spelling in spellings
}

# Contact Form 7's special mail tags, sent by its webhook add-ons under their own names.
# `_url` is the page the form was sent from; the others describe the site, the post or the
# logged-in WordPress user (not necessarily the person writing), so they are kept as they
# are and never taken for the lead's email. (contactform7.com/special-mail-tags/)
CF7_SPECIAL_TAGS: dict[str, str | None] = {
    "_url": "page_url",
    **dict.fromkeys(
        [
            "_remote_ip", "_user_agent", "_date", "_time", "_invalid_fields",
            "_serial_number", "_post_id", "_post_name", "_post_title", "_post_url",
            "_post_author", "_post_author_email", "_site_title", "_site_description",
            "_site_url", "_site_domain", "_site_admin_email", "_user_login", "_user_email",
            "_user_url", "_user_first_name", "_user_last_name", "_user_nickname",
            "_user_display_name",
        ]
    ),
}  # fmt: skip


# The parts a name is composed of, in the order they are joined.
NAME_PARTS = ("first_name", "middle_name", "last_name")
# Lead columns a form may not set: kept in extra_data under the posted key, nothing more.
PROTECTED = frozenset(
    {
        "id",
        "workspace",
        "workspace_id",
        "status",
        "is_spam",
        "created_by",
        "setter",
        "submission_id",
        "created_at",
        "updated_at",
    }
)
