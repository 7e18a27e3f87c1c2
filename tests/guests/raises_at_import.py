# expect: status=exited exit_code=1 stderr~ValueError stderr~boom_at_import
class Config:
    value = int("boom_at_import")
